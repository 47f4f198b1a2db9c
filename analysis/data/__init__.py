"""Data: the words the tables use, reading and writing tables, the development/test split.

Owns everything about reports and ground truth before a model sees them:
``vocabulary`` (answers, sites, statuses and the roles of label sets, defined
once), ``io`` (reading reports, ground truth and split files with the checks
that keep every report in every table; writing private tables, with list
cells as lists) and ``split`` (the development/test split). It imports
nothing of the project but ``analysis.config``.
"""
