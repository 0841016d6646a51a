"""`campaign import` and `campaign template` (registered by campaign.cli_import.register)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from campaign.cli_import import register
from storage.catalog import load_catalog
from storage.db import session_scope
from tests.conftest import CATALOG, shanghai
from tests.data.imports.support import BAD, GOOD

runner = CliRunner()


@pytest.fixture
def cli(app_db: str) -> typer.Typer:
    with session_scope() as s:
        load_catalog(s, CATALOG, now=shanghai(2018, 3, 1, 9))
    app = typer.Typer()
    register(app)
    return app


def test_import_prints_each_file_s_outcome_and_fails_if_any_was_rejected(cli: typer.Typer, tmp_path: Path) -> None:
    good, bad = GOOD / "瓦房镇驻村工作天数-第16周.csv", BAD / "unknown_places.xlsx"
    result = runner.invoke(
        cli, ["import", str(good), str(bad), "--as-of", "2018-04-23T09:00", "--errors-dir", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("✔ 接收 瓦房镇驻村工作天数-第16周.csv“驻村工作天数登记”：4 行")
    assert lines[1].startswith("✘ 退回 unknown_places.xlsx“驻村工作天数登记”：3 处问题")
    assert lines[2].startswith("  - unknown_places.xlsx｜工作表“驻村”｜第 2 行｜列“村”｜值“瓦房屯”")
    assert len(lines) == 5
    assert (tmp_path / "unknown_places.xlsx.errors.txt").read_text(encoding="utf-8-sig").count("\n") == 7
    again = runner.invoke(cli, ["import", str(good), "--as-of", "2018-04-23T10:00"])
    assert again.exit_code == 0 and "未变" in again.output


def test_import_takes_a_folder_and_an_explicit_type(cli: typer.Typer) -> None:
    result = runner.invoke(cli, ["import", str(GOOD), "--as-of", "2018-04-23T09:00"])
    assert result.exit_code == 0, result.output
    assert result.output.count("✔") == len(list(GOOD.iterdir()))
    wrong = runner.invoke(
        cli,
        ["import", str(GOOD / "瓦房镇入户走访记录-4月.xlsx"), "--type", "village_days", "--as-of", "2018-04-23T09:00"],
    )
    assert wrong.exit_code == 1 and "缺少必填列" in wrong.output


def test_template_writes_headers_an_example_row_and_an_explanation_sheet(cli: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "驻村.xlsx"
    result = runner.invoke(cli, ["template", "village_days", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["驻村工作天数登记", "说明"]
    data = [[c.value for c in row] for row in wb["驻村工作天数登记"].iter_rows(max_row=2)]
    assert data[0] == ["日期", "乡镇", "村", "姓名", "身份", "驻村天数", "工作内容"]
    assert data[1][1:] == ["瓦房镇", "瓦房村委会", "张三", "第一书记", 5, "入户走访、项目调度"]
    notes = [[c.value for c in row] for row in wb["说明"].iter_rows()]
    assert ["驻村天数", "是", "整数", "天", "≥ 0；≤ 7；不能为负数", None, "5", None] in notes
    assert any("第 2 行是示例" in str(row[0]) for row in notes)
    unknown = runner.invoke(cli, ["template", "nothing"])
    assert unknown.exit_code == 2 and "village_days（驻村工作天数登记）" in unknown.output
