import sys
from pathlib import Path

# The sample service used to exercise the platform lives beside the tests.
sys.path.insert(0, str(Path(__file__).parent))
