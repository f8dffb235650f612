"""Exports of cases and indicator tables as CSV, XLSX and GeoJSON."""
