"""Pictures and charts staff can open offline (docs/viz.md).

``viz.pictures`` builds the four network pictures (1+7+N structure, one alliance, one
organisation's neighbourhood, one region) as a small graph model from the coverage
facts and a scope — pure functions, no I/O. ``viz.render`` turns a picture into one
self-contained, escaped HTML file (vis-network inlined from the installed pyvis
package). ``viz.charts`` draws the rate, trend and finding charts as SVG.

Importing this package imports nothing heavy; each module is imported where used.
"""
