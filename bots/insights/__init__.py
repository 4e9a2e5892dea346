"""Brand insights: period filters and the SQL-aggregated summary behind ``brandbot report`` and the dashboard."""
