"""The weekly stress report: queries.py (what it reads), charts.py (the charts), page.py (the HTML page)."""
