"""Grafana dashboards and alert rules as code, generated into provisioning files and checked against InfluxDB."""
