import sys
from pathlib import Path

# The image builders used by both unit and integration tests live beside them.
sys.path.insert(0, str(Path(__file__).parent))
