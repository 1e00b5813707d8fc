"""Data out: spreadsheet-safe CSV cells and files, signed short-lived download links, and the download route.

What is exported (the rows, their columns, who may read them) is the business of ``services.exports``;
this package only writes what it is given and serves it.
"""
