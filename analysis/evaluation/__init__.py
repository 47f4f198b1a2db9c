"""Evaluation: the labels measured against the ground truth, with honest uncertainty.

``scoring`` (which answers count as positive, on which reports), ``metrics``
(Tables 1A and 1B), ``bootstrap`` (paired resampling of reports and its
intervals), ``comparisons`` (paired differences, McNemar, Fleiss' κ),
``thresholds`` (a ``p_yes`` cut from the development split), ``variants``
(prompt variants compared), ``calibration``, ``categories`` (errors by kind of
report), ``intervals`` (exact and BCa intervals), ``reference`` (a run
beside a reference run), ``review_budget`` (the review priority fitted on
a development split, and what reviewing in its order buys), ``adjudicate``
(a reviewer's decisions applied to the labels, scored before and after) and
``evaluate`` (all of a stage at once, as the notebooks and the command line
run it). Computes tables as data frames and writes no file; it may import
``analysis.labeling`` and below.
"""
