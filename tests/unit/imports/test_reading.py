"""Reading hostile account files: encodings, delimiters, quoted line breaks, limits, binary and empty files."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from outboundql.imports.reading import MAX_CELL_CHARS, MAX_ROWS, Refused, read_table

TEXT = "name,city,notes\nAcme España,Málaga,“quoted” 5 €\nBücher GmbH,Köln,façade\n"


def refused(data: bytes, **kwargs: int) -> Refused:
    with pytest.raises(Refused) as caught:
        read_table(data, **kwargs)
    return caught.value


# --- encodings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("utf-16-be"), "utf-16-be"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_each_encoding_reads_the_same_text(data: bytes, encoding: str) -> None:
    table = read_table(data)
    assert table.encoding == encoding
    assert table.headers == ["name", "city", "notes"]
    assert [row.cells for row in table.rows] == [
        ["Acme España", "Málaga", "“quoted” 5 €"],
        ["Bücher GmbH", "Köln", "façade"],
    ]


def test_windows_1252_euro_and_curly_quotes() -> None:
    table = read_table("name;price\n“Señor” Café;12 €\n".encode("cp1252"))
    assert table.encoding == "cp1252"
    assert table.rows[0].cells == ["“Señor” Café", "12 €"]


def test_latin_1_letters() -> None:
    table = read_table("name,city\nPeña Hermanos,Cádiz\nCrème Brûlée SA,Orléans\n".encode("latin-1"))
    assert table.encoding == "latin-1"
    assert [row.cells for row in table.rows] == [["Peña Hermanos", "Cádiz"], ["Crème Brûlée SA", "Orléans"]]


def test_a_bom_never_ends_up_in_the_first_header() -> None:
    table = read_table(codecs.BOM_UTF8 + codecs.BOM_UTF8 + b"name,city\nAcme,Paris\n")
    assert table.headers == ["name", "city"]


# --- delimiters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    others = "".join(d for d in ",;|" if d != delimiter)  # the other delimiters appear inside cells, unquoted
    text = "\n".join(
        delimiter.join(line)
        for line in [["name", "city", "description"], ["Acme", "Paris", f"pens{others} inks"], ["Bolt", "Lyon", ""]]
    )
    table = read_table(text.encode())
    assert table.delimiter == delimiter
    assert table.headers == ["name", "city", "description"]
    assert [row.cells for row in table.rows] == [["Acme", "Paris", f"pens{others} inks"], ["Bolt", "Lyon", ""]]


def test_semicolons_with_commas_inside_cells() -> None:
    table = read_table(b"name;city;notes\nAcme, Inc.;Paris;big, old\nBolt SA;Lyon;small\n")
    assert table.delimiter == ";"
    assert table.rows[0].cells == ["Acme, Inc.", "Paris", "big, old"]


def test_excel_sep_line_names_the_delimiter() -> None:
    table = read_table(b"sep=|\r\nname|city\r\nAcme, Inc.;x|Paris\r\n")
    assert (table.delimiter, table.headers) == ("|", ["name", "city"])
    assert [(row.line, row.cells) for row in table.rows] == [(3, ["Acme, Inc.;x", "Paris"])]
    assert refused(b"sep=;").code == "EMPTY"


def test_one_column_file() -> None:
    table = read_table(b"name\nAcme\nBolt\n")
    assert table.headers == ["name"]
    assert [row.cells for row in table.rows] == [["Acme"], ["Bolt"]]
    table = read_table(b"Company\nAcme, Inc.\nBolt; Sons\n")
    assert [(row.cells, row.problem) for row in table.rows] == [(["Acme, Inc."], None), (["Bolt; Sons"], None)]


# --- lines, blanks, widths ---------------------------------------------------------------------------------


def test_quoted_line_breaks_keep_line_numbers_right() -> None:
    data = b'name,notes\r\nAcme,"first\r\nsecond\r\nthird"\r\n\r\nBolt,plain\r\n"Cor\np",x\nDelta,y\n'
    table = read_table(data)
    assert [(row.line, row.cells) for row in table.rows] == [
        (2, ["Acme", "first\r\nsecond\r\nthird"]),
        (6, ["Bolt", "plain"]),
        (7, ["Cor\np", "x"]),
        (9, ["Delta", "y"]),
    ]


def test_blank_lines_and_empty_rows_are_skipped() -> None:
    table = read_table(b"\n\nname,city\n\n   \n,\nAcme,Paris\n\n")
    assert table.headers == ["name", "city"]
    assert [(row.line, row.cells) for row in table.rows] == [(7, ["Acme", "Paris"])]


def test_rows_with_more_or_fewer_cells_than_the_header() -> None:
    table = read_table(b"name,city,country\nAcme\nBolt,Lyon,FR,extra,more\nCorp,Rome,IT,,\n")
    short, long, trailing = table.rows
    assert short.cells == ["Acme", "", ""] and short.problem is None
    assert long.cells == ["Bolt", "Lyon", "FR"]
    assert long.problem == "has 5 cells where the header has 3"
    assert trailing.cells == ["Corp", "Rome", "IT"] and trailing.problem is None


def test_cells_are_stripped_and_formulas_kept_verbatim() -> None:
    data = b'name,notes\n  =HYPERLINK("http://x")  ,+1-2\n@SUM(A1),-3\n"=cmd|\' /C calc\'!A0",\t=1+1\n'
    table = read_table(data)
    assert [row.cells for row in table.rows] == [
        ['=HYPERLINK("http://x")', "+1-2"],
        ["@SUM(A1)", "-3"],
        ["=cmd|' /C calc'!A0", "=1+1"],
    ]


def test_very_long_cell_is_a_row_problem_not_a_crash() -> None:
    long = "x" * (MAX_CELL_CHARS + 1)
    data = f'name,notes\nAcme,"{long}"\nBolt,short\n'.encode()
    table = read_table(data)
    too_long = f"{MAX_CELL_CHARS + 1:,}"
    assert table.rows[0].problem == f"the cell in column “notes” has {too_long} characters (at most 100,000)"
    assert table.rows[0].cells == ["Acme", ""]
    assert table.rows[1].cells == ["Bolt", "short"] and table.rows[1].problem is None


def test_a_cell_longer_than_pythons_default_csv_limit_is_read() -> None:
    cell = "y" * 200_000
    table = read_table(f"name,notes\nAcme,{cell[:90_000]}\n".encode())
    assert table.rows[0].cells[1] == cell[:90_000]


# --- headers --------------------------------------------------------------------------------------------


def test_duplicate_and_blank_headers_are_made_unique() -> None:
    table = read_table(b"email,Name, ,Email,email,\nx@a.com,Acme,1,y@b.com,z@c.com,\n")
    assert table.headers == ["email", "Name", "column 3", "Email (2)", "email (3)"]
    assert table.rows[0].cells == ["x@a.com", "Acme", "1", "y@b.com", "z@c.com"]


# --- refused files --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\t\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")]
)
def test_empty_file(data: bytes) -> None:
    error = refused(data)
    assert (error.code, error.message) == ("EMPTY", "The file is empty.")


def test_header_only_file() -> None:
    error = refused(b"name,city,country\r\n\r\n")
    assert error.code == "EMPTY"
    assert error.message == "The file has a header row but no rows below it."


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("accounts.csv", "name\nAcme\n" * 50)
    return buffer.getvalue()


@pytest.mark.parametrize("data", [_png(), _zip(), bytes(range(256)) * 4, bytes(range(1, 32)) * 40 + b"\nname\n"])
def test_binary_file_is_not_csv(data: bytes) -> None:
    error = refused(data)
    assert error.code == "NOT_CSV"
    assert "binary" in error.message


def test_a_text_file_without_a_header_row_is_not_csv() -> None:
    error = refused(("lorem ipsum " * 40 + "\nsecond line\n").encode())
    assert error.code == "NOT_CSV"


def test_max_rows_accepted_and_one_more_refused() -> None:
    body = "".join(f"Company {i},City {i}\n" for i in range(MAX_ROWS))
    table = read_table(("name,city\n" + body).encode())
    assert len(table.rows) == MAX_ROWS
    assert table.rows[-1].line == MAX_ROWS + 1
    error = refused(("name,city\n" + body + "One more,Town\n").encode())
    assert error.code == "TOO_MANY_ROWS"
    assert "10,000" in error.message


def test_max_rows_can_be_lowered() -> None:
    assert refused(b"name\na\nb\nc\n", max_rows=2).code == "TOO_MANY_ROWS"
    assert len(read_table(b"name\na\nb\n", max_rows=2).rows) == 2


def test_a_nul_character_anywhere_is_not_csv() -> None:
    text = "name,notes\n" + "Acme,ok\n" * 10_000 + "Bolt,\x00\n"
    assert refused(codecs.BOM_UTF16_LE + text.encode("utf-16-le")).code == "NOT_CSV"


def test_a_quote_never_closed_cuts_its_row_and_the_rows_after_it_are_kept() -> None:
    table = read_table(b'name,city\nAcme,Paris\nBolt,"Lyon\nCorp,Rome\n\nDelta,Oslo\n')
    assert [(row.line, row.cells, row.problem) for row in table.rows] == [
        (2, ["Acme", "Paris"], None),
        (3, ["Bolt", "Lyon"], 'has a quote (") that is never closed (the lines after it are read on their own)'),
        (4, ["Corp", "Rome"], None),
        (6, ["Delta", "Oslo"], None),
    ]


def test_a_quoted_line_break_in_the_last_row_is_not_an_unclosed_quote() -> None:
    table = read_table(b'name,notes\nAcme,"one\ntwo"')
    assert [(row.line, row.cells, row.problem) for row in table.rows] == [(2, ["Acme", "one\ntwo"], None)]
