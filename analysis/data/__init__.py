"""Data: the words the tables use, reading and writing tables, the development/test split, the demo corpus.

Owns everything about reports and ground truth before a model sees them:
``vocabulary`` (answers, sites, label sets and statuses, defined once),
``io`` (reading reports, ground truth and split files with the checks that
keep every report in every table; writing private tables), ``split`` (the
development/test split) and ``corpus`` (the generator of the synthetic demo
corpus, standard library only). It imports nothing of the project but
``analysis.config``.
"""
