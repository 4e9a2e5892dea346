"""Dark-social measurement: allow-listed URLs in bot replies become short tracked links.

:mod:`.tables` (SQL), :mod:`.shortener` (codes, rewriting replies), :mod:`.clicks`
(user-agent families, bots, first and forwarded clicks), :mod:`.web` (``GET /l/<code>``).
Figures for the insights summary: :func:`bots.insights.link_figures.link_figures`.
"""
