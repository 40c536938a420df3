import sys
from pathlib import Path

# The synthetic scenes used by the integration tests (and tests/e2e) live beside them.
sys.path.insert(0, str(Path(__file__).parent))
