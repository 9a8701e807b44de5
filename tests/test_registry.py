"""The listing registry: shipped facts, declarations from configs, targets and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.config import ConfigError, load_config
from data_loaders.errors import UnknownSymbolError
from data_loaders.markets import LISTINGS, get_listing
from data_loaders.registry import active_registry, default_registry, use_registry
from data_loaders.registry_file import RegistryError, extend_registry, load_registry_file

# (ADR, ordinary, shares per ADS) — each checked against the issuer's SEC filing (listings.toml).
SHIPPED_PAIRS = {("BABA", "9988.HK", 8), ("JD", "9618.HK", 2), ("BIDU", "9888.HK", 8), ("NTES", "9999.HK", 5),
                 ("TCOM", "9961.HK", 1), ("LI", "2015.HK", 2), ("XPEV", "9868.HK", 2), ("NIO", "9866.HK", 1),
                 ("BILI", "9626.HK", 1)}


def test_shipped_registry_has_the_pairs_lots_and_issuers() -> None:
    reg = default_registry()
    assert {(p.adr, p.ordinary, p.shares_per_adr) for p in reg.pairs} == SHIPPED_PAIRS
    assert all(p.source for p in reg.pairs)  # every ratio cites its public record
    assert reg.listing("BABA").shares_per_unit == 8 and reg.listing("BABA").underlying == "9988.HK"
    assert reg.listing("JD").shares_per_unit == 2 and reg.listing("9988.HK").shares_per_unit == 1
    assert {s: reg.listing(s).lot_size_shares for s in ("9988.HK", "1810.HK", "9618.HK", "9866.HK")} == \
        {"9988.HK": 100, "1810.HK": 200, "9618.HK": 50, "9866.HK": 10}
    assert reg.issuer_of("BABA") == reg.issuer_of("9988.HK") == "alibaba"
    assert reg.issuer_of("HSTECH") == "HSTECH"  # an index is its own unit
    for csv in ("9988.HK", "BABA", "HSTECH", "HSI", "USDHKD", "0700.HK", "1810.HK", "1024.HK", "3690.HK", "9618.HK",
                "9888.HK", "IXIC", "QQQ", "KWEB", "AAPL"):
        assert csv in reg.listings  # every series of shared/data/prices is declared


def test_targets_expand_to_symbols() -> None:
    reg = default_registry()
    assert reg.expand("0700.HK") == ("0700.HK",)
    assert reg.expand("@alibaba") == ("9988.HK", "BABA")
    assert reg.expand("@china_internet") == ("9988.HK", "0700.HK", "1810.HK", "1024.HK", "3690.HK", "9618.HK",
                                             "9888.HK")
    assert reg.expand_all(["@alibaba", "9988.HK", "0700.HK"]) == ("9988.HK", "BABA", "0700.HK")
    with pytest.raises(UnknownSymbolError, match="Did you mean @alibaba"):
        reg.expand("@alibabba")
    assert reg.pair_of("9988.HK", "BABA").shares_per_adr == 8 and reg.pair_of("9618.HK", "BABA") is None


def test_undeclared_symbol_shows_the_table_to_add() -> None:
    with pytest.raises(UnknownSymbolError) as err:
        get_listing("2618.HK")
    text = str(err.value)
    assert "unknown symbol '2618.HK'" in text and "[[listing]]" in text
    assert 'symbol = "2618.HK"' in text and 'market = "HK"' in text and "lot_size_shares" in text


def test_declarations_extend_and_override_the_shipped_registry() -> None:
    doc = {"listing": [{"symbol": "2618.HK", "market": "HK", "kind": "stock", "lot_size_shares": 100,
                        "issuer": "jd_logistics", "name": "JD Logistics"},
                       {"symbol": "9988.HK", "market": "HK", "kind": "stock", "lot_size_shares": 50,
                        "issuer": "alibaba"}],
           "basket": [{"id": "jd_family", "members": ["@jd", "2618.HK"]}]}
    reg = extend_registry(default_registry(), doc, origin="cfg.toml")
    assert reg.listing("2618.HK").lot_size_shares == 100 and reg.issuer_of("2618.HK") == "jd_logistics"
    assert reg.listing("9988.HK").lot_size_shares == 50                       # overridden
    assert reg.listing("BABA").shares_per_unit == 8                           # pair kept
    assert reg.expand("@jd_family") == ("9618.HK", "JD", "2618.HK")
    assert default_registry().listing("9988.HK").lot_size_shares == 100      # shipped one untouched
    assert "2618.HK" not in LISTINGS
    with use_registry(reg):
        assert "2618.HK" in LISTINGS and get_listing("2618.HK").name == "JD Logistics"
        assert active_registry() is reg
    assert "2618.HK" not in LISTINGS


def test_every_problem_of_a_declaration_is_reported_at_once() -> None:
    doc = {"listing": [{"symbol": "9999.HK", "market": "HK", "kind": "stock"},          # no lot
                       {"symbol": "../x", "market": "HK", "lot_size_shares": 100},       # path-like symbol
                       {"symbol": "NEW", "market": "JP", "kind": "stok", "lots": 3}],    # market, kind, key
           "pair": [{"adr": "BABA", "ordinary": "0700.HK", "shares_per_adr": 8},         # two issuers
                    {"adr": "9988.HK", "ordinary": "BABA", "shares_per_adr": 0}]}        # swapped, ratio 0
    with pytest.raises(RegistryError) as err:
        extend_registry(default_registry(), doc, origin="cfg.toml")
    text = "\n".join(err.value.problems)
    assert "missing lot_size_shares" in text and "board lots" in text
    assert "'../x' is not allowed" in text
    assert "market = 'JP' is not one of HK, US, FX" in text and "did you mean 'stock'" in text
    assert "unknown key 'lots'" in text
    assert "different issuers" in text
    assert "shares_per_adr = 0 must be a number > 0" in text and "must be a US listing" in text
    assert len(err.value.problems) >= 7


def test_listings_file_and_config_tables(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[[listing]]\nsymbol = "2618.HK"\nmarket = "HK"\nlot_size_shares = 100\nissuer = "jd_logistics"\n',
        encoding="utf-8")
    cfg = tmp_path / "run.toml"
    cfg.write_text('[data]\nsource = "synthetic"\nlistings = "mine.toml"\n'
                   '[[listing]]\nsymbol = "6618.HK"\nmarket = "HK"\nlot_size_shares = 50\n'
                   '[strategy]\nname = "post_event_drift"\nlistings = ["2618.HK", "6618.HK", "@alibaba"]\n',
                   encoding="utf-8")
    loaded = load_config(cfg)
    assert loaded.strategy.listings == ("2618.HK", "6618.HK", "9988.HK", "BABA")
    assert loaded.registry.listing("6618.HK").lot_size_shares == 50
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nlistings = "missing.toml"\n[strategy]\nname = "post_event_drift"\n'
                   'listings = ["7777.HK", "HSTECH"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    text = str(err.value)
    assert "missing.toml" in text and "file not found" in text
    assert "unknown symbol '7777.HK'" in text and "[[listing]]" in text
    assert "'HSTECH' is not a tradable listing" in text


def test_shipped_registry_file_round_trips(tmp_path: Path) -> None:
    from data_loaders.registry import SHIPPED_REGISTRY_PATH

    again = load_registry_file(SHIPPED_REGISTRY_PATH, base=None)
    assert again.listings == default_registry().listings and again.pairs == default_registry().pairs
    (tmp_path / "x.toml").write_text("[[market]]\ncode = 'JP'\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"\[\[market\]\] tables are not accepted here"):
        load_registry_file(tmp_path / "x.toml", base=default_registry())
    (tmp_path / "y.toml").write_bytes(b"\xff\xfe[[listing]]")
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_registry_file(tmp_path / "y.toml", base=default_registry())


def test_akshare_maps_any_declared_symbol_by_rule_or_declaration() -> None:
    from data_loaders.akshare_source import akshare_routes

    reg = extend_registry(default_registry(), {"listing": [
        {"symbol": "2618.HK", "market": "HK", "lot_size_shares": 100},
        {"symbol": "PDD", "market": "US", "kind": "stock"},
        {"symbol": "HSCEI", "market": "HK", "kind": "index", "upstream": {"sina": "HSCEI"}}]}, origin="cfg")
    calls = {s: [(r.function, r.symbol) for r in akshare_routes(reg.listing(s))]
             for s in ("2618.HK", "9999.HK", "NTES", "PDD", "HSCEI")}
    assert calls["2618.HK"] == [("stock_hk_hist", "02618"), ("stock_hk_daily", "02618")]  # the rule
    assert calls["9999.HK"][0] == ("stock_hk_hist", "09999")
    assert calls["NTES"] == [("stock_us_hist", "105.NTES"), ("stock_us_daily", "NTES")]  # the declaration
    assert calls["PDD"] == [("stock_us_daily", "PDD")]  # no venue declared: Sina only
    assert calls["HSCEI"] == [("stock_hk_index_daily_sina", "HSCEI")]


def test_data_show_reads_a_symbol_declared_in_a_listings_file(tmp_path: Path, capsys) -> None:
    from tests.cli_runner import run_cli

    (tmp_path / "mine.toml").write_text('[[listing]]\nsymbol = "2618.HK"\nmarket = "HK"\nlot_size_shares = 100\n',
                                        encoding="utf-8")
    (tmp_path / "2618.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-03-03,10,11,9.5,10.5,10.5,1000\n"
        "2025-03-04,10.5,10.8,10.1,10.2,10.2,1200\n", encoding="utf-8")
    assert run_cli(["data", "show", "2618.HK", "--data-dir", str(tmp_path)]) != 0
    assert "--listings FILE" in capsys.readouterr().err
    assert run_cli(["data", "show", "2618.HK", "--data-dir", str(tmp_path), "--listings",
                    str(tmp_path / "mine.toml")]) == 0
    assert "2618.HK (HKD, raw)" in capsys.readouterr().out
