"""The read API (FastAPI): JSON, CSV and GeoJSON for phones, GIS, Grafana users and scripts."""
