"""Grafana dashboards as code: generated provisioning files and checks that run every panel query."""
