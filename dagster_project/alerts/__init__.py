"""Stress alerts: reading new rows of mart_stress_alerts from the serving file and delivering each once to every sink."""
