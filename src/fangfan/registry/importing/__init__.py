"""Importing the household workbook (DATA-FORMATS §2), stage by stage: ``layout`` (the fields, ``classify``),
``read`` (files → tables), ``cells`` (the columns' parsers), ``state`` (what the database holds), ``plan`` (check and
compare, slice by slice), ``write`` (the bulk writes and audit events) and the entry ``households.households_import``.
"""
