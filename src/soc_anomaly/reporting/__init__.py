"""What a person reads: console reports and figures.

======================  ========================================================
module                 what lives there
======================  ========================================================
``console``            the stdout console every report prints to
``tables``             tables split by columns to fit the console width
``detect_report``      the ``detect`` report: summary first, ranking, alerts
``detail_tables``      the tables ``detect --verbose`` adds
``report_format``      number formats and wrapped prose of the reports
``campaign_report``    campaigns caught per scenario and intensity
``benchmark_report``   the ``benchmark`` table beside the published AUCs
``diff_report``        the ``diff`` report: changed settings, metric deltas
``plots``              ``write_plots``: every figure of a detection run
``seed_figures``       the seed system's figures
``lab_figures``        comparison, threshold-lab and before/after figures
``projection_figures`` the 2-D (PCA) map of the evaluated events
``entity_figures``     per-user timelines, top users and alert rates
``campaign_figures``   the campaign timeline with time to detect
``figure_style``       the shared look of figures and atomic PNG saving
``nines_scale``        the axis that spreads 90, 99, 99.9 evenly
``html_page``          the self-contained HTML page and its checks
``html_report``        ``detect --report``: the run as one HTML file
``html_alerts``        its campaign and top-alert sections
``score_report``       ``score --report``: the page
``score_collector``    what ``score --report`` keeps while streaming
======================  ========================================================

Only this package imports matplotlib and seaborn. Nothing is imported here, so
that a console report never pays for matplotlib.
"""
