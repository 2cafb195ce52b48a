"""`python -m rnnsuite.studies [RESULTS_DIR]`: one table of every study's verdicts, read from RESULTS_DIR/*.json
(default: results), the table docs/studies/index.md is generated from."""
import sys

from .verdict import all_verdicts_table

print(all_verdicts_table(sys.argv[1] if len(sys.argv) > 1 else "results"))
