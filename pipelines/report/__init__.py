"""The weekly right-sizing report: tables from the marts, plotly charts, one HTML file + CSVs.

Pure library (no dagster): ``tables`` queries the warehouse, ``charts`` draws, ``render``
writes; the asset in ``pipelines/assets/report.py`` only wires them to the resource.
"""
