"""Labeling: from reports to labels, one module and one step per stage.

The steps, in order, each reading the files the one before it wrote
(``analysis.config.RunFiles``): ``inputs.inputs_step`` (the impression each
report sends, found by ``impression`` and screened by ``screening``; and
``truth_step``, the truth of each part of the split), ``stage1.stage1_step``
(every model's Yes/No/Undefined, and the rule-based ``baseline``),
``ensemble.ensemble_step`` (the majority vote, and the ``combination`` with
ConText's veto) and ``stage2.stage2_step`` (the sites, for the reports the
gate model called Yes, and each report's review priority, ``priority``).
``pipeline.label_reports`` runs them all, for the
command line; the notebooks run them one at a time. Beside them: ``labels``
(the labels table, and who votes and who was gated, read from it),
``session`` (the run's models, servers and cache, which every stage asks
through), ``manifest`` (what a reader needs to trust and repeat a run, one
typed model) and ``fingerprint`` (what decides llama.cpp's arithmetic on this
machine, for the manifest). It may import ``analysis.llm``,
``analysis.specs`` and ``analysis.data``; nothing of evaluation or reporting.
"""
