"""The ground floor: the settings, the error family, the domain types and values, the workbook's layout.

Everything else stands on it; it imports nothing of the pipeline's own.
"""
