"""From the sheet's rows to submissions, row errors and the cells to write back: ``rows`` parses one
素材 row, ``tabs`` takes in every tab against what the ledger knows. Pure: no file, no ledger."""
