"""What a person reads: console reports and figures.

=====================  =========================================================
module                 what lives there
=====================  =========================================================
``console``            the stdout console every report prints to
``detect_report``      the ``detect`` report: ranking, metrics, explanations
``benchmark_report``   the ``benchmark`` table beside the published AUCs
``diff_report``        the ``diff`` report: changed settings, metric deltas
``plots``              ``write_plots``: every figure of a detection run
``seed_figures``       the seed system's figures
``lab_figures``        comparison, threshold-lab and before/after figures
``figure_style``       the shared look of figures and atomic PNG saving
=====================  =========================================================

Only this package imports matplotlib and seaborn. Nothing is imported here, so
that a console report never pays for matplotlib.
"""
