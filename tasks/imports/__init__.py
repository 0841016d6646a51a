"""Gathering data: township spreadsheets in, evidence and indicator readings out.

Modules (import them directly; this package stays light because ``tasks.instances`` imports
``tasks.imports.completion`` on every duty run):

- ``read``       bytes → sheets of raw cells (CSV in any of the encodings clerks use, XLSX)
- ``text``       normalising cells: full-width digits, 是/否, dates, Excel serials, periods
- ``divisions``  township and village names → official division codes, with closest matches
- ``builtin``    report types that are not in the catalog (``duty_completion``)
- ``validate``   rows → typed records, checked against the report type's columns
- ``store``      records → Submission, Evidence, IndicatorReading (idempotent, superseding)
- ``importer``   one file, all or nothing: ``import_file``
- ``inbox``      every file of the inbox folder, moved to processed/ or rejected/
- ``template``   an .xlsx template per report type
- ``completion`` which evidence completes which duty instance (used by tasks.instances)
"""
