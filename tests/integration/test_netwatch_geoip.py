"""ebee geoip: the installed DB-IP database for well-known addresses (lookups only: nothing is
sent to them), both database layouts through fixtures written by test_netwatch_mkdb.pl, the
label file, private ranges, and bad databases / label files."""
import os
import shutil
import subprocess

import pytest

from conftest import EBEE, ROOT, json_lines, run

HERE = os.path.dirname(os.path.abspath(__file__))
INSTALLED = os.path.join(os.path.dirname(EBEE), "geoip")
if not os.path.isdir(INSTALLED):
    INSTALLED = os.path.join(os.path.dirname(EBEE), "..", "geoip")


def geoip(*args, check=0):
    p = run(["geoip", "--json"] + list(args), check=check)
    return {r["addr"]: r for r in json_lines(p.stdout)}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    if subprocess.run(["perl", "-MMaxMind::DB::Writer::Tree", "-e", "1"],
                      capture_output=True).returncode:
        pytest.skip("MaxMind::DB::Writer missing (apt install libmaxmind-db-writer-perl)")
    d = tmp_path_factory.mktemp("mmdb")
    subprocess.run(["perl", os.path.join(HERE, "test_netwatch_mkdb.pl"), str(d)], check=True)
    return d


def test_installed_database_well_known_addresses():
    dbs = [f for f in os.listdir(INSTALLED) if f.endswith(".mmdb")] if os.path.isdir(INSTALLED) else []
    if not dbs:
        pytest.skip("no default GeoIP database installed (make installs it from npm)")
    want = {
        "193.0.6.139": "NL",                 # RIPE NCC, Amsterdam
        "130.149.7.201": "DE",               # TU Berlin
        "133.11.0.1": "JP",                  # University of Tokyo
        "200.160.2.3": "BR",                 # NIC.br
        "2001:67c:2e8:22::c100:68b": "NL",   # RIPE NCC over IPv6
        "2a02:2e0:3fe:1001:302::": "DE",     # heise.de over IPv6
    }
    got = geoip(*want)
    for addr, cc in want.items():
        r = got[addr]
        assert r["source"] == "db" and r["layout"] == "flat", r
        assert r["country_code"] == cc, r
        assert -90 <= r["lat"] <= 90 and -180 <= r["lon"] <= 180 and r.get("city"), r
    # An IPv4-mapped IPv6 address is the IPv4 address.
    assert geoip("::ffff:193.0.6.139")["193.0.6.139"]["country_code"] == "NL"


def test_both_layouts(fixtures):
    args = ["--geoip", fixtures / "maxmind-city.mmdb", "--geoip", fixtures / "flat-ipv4.mmdb",
            "--geoip", fixtures / "flat-ipv6.mmdb"]
    got = geoip(*args, "198.51.100.7", "2001:db8:100::5", "203.0.113.9", "2001:db8:200::1",
                "192.0.2.1")
    mm = got["198.51.100.7"]
    assert (mm["layout"], mm["country_code"], mm["country"], mm["region"], mm["city"]) == \
        ("maxmind", "NZ", "New Zealand", "Wellington Region", "Wellington")
    assert (mm["lat"], mm["lon"], mm["asn"], mm["as_org"]) == (-41.2866, 174.7756, 64500, "Example Net")
    assert (got["2001:db8:100::5"]["layout"], got["2001:db8:100::5"]["city"]) == ("maxmind", "Reykjavik")
    fl = got["203.0.113.9"]
    assert (fl["layout"], fl["country_code"], fl["region"], fl["city"], fl["lat"], fl["lon"]) == \
        ("flat", "CL", "Magallanes", "Punta Arenas", -53.1638, -70.9171)
    f6 = got["2001:db8:200::1"]
    assert (f6["layout"], f6["country_code"], f6["city"]) == ("flat", "NO", "Longyearbyen")
    assert got["192.0.2.1"]["source"] == "none"
    assert "asn" not in fl


def test_asn_database_adds_to_city(fixtures):
    for order in (["flat-ipv4.mmdb", "asn.mmdb"], ["asn.mmdb", "flat-ipv4.mmdb"]):
        args = [a for f in order for a in ("--geoip", fixtures / f)]
        r = geoip(*args, "203.0.113.9")["203.0.113.9"]
        assert (r["layout"], r["city"], r["asn"], r["as_org"]) == \
            ("flat", "Punta Arenas", 64501, "Flat Example AS"), (order, r)


def test_labels_and_private(tmp_path, fixtures):
    labels = tmp_path / "labels.txt"
    labels.write_text("# lab networks\n10.213.0.0/16  Lab Rack A  48.8566 2.3522\n"
                      "10.213.7.0/24 rack-b -33.9 18.4\n\nfd00:ebee::/32 v6 lab 35.0 135.0\n"
                      "198.51.100.0/24 overridden 1 2\n")
    got = geoip("--labels", labels, "--geoip", fixtures / "maxmind-city.mmdb",
                "10.213.1.5", "10.213.7.9", "fd00:ebee:1::2", "10.9.9.9", "127.0.0.1", "::1",
                "fe80::1", "198.51.100.7")
    assert (got["10.213.1.5"]["source"], got["10.213.1.5"]["city"], got["10.213.1.5"]["lat"]) == \
        ("label", "Lab Rack A", 48.8566)
    assert got["10.213.7.9"]["city"] == "rack-b"          # longest prefix wins
    assert got["fd00:ebee:1::2"]["city"] == "v6 lab"
    for a in ("10.9.9.9", "127.0.0.1", "::1", "fe80::1"):
        assert (got[a]["source"], got[a]["city"]) == ("private", "private"), got[a]
    assert got["198.51.100.7"]["source"] == "label"       # labels come first


def test_bad_inputs(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("10.0.0.0/8 ok 1 2\n\n10.1.0.0/33 broken 1 2\n")
    p = run(["geoip", "--labels", bad, "10.0.0.1"])
    assert p.returncode == 2 and f"malformed label file '{bad}' line 3" in p.stderr, p.stderr
    bad.write_text("10.0.0.0/8 nolatlon\n")
    p = run(["geoip", "--labels", bad, "10.0.0.1"])
    assert p.returncode == 2 and "line 1" in p.stderr
    corrupt = tmp_path / "corrupt.mmdb"
    corrupt.write_bytes(os.urandom(4096))
    p = run(["geoip", "--geoip", corrupt, "1.2.3.4"])
    assert p.returncode == 2 and f"cannot open GeoIP database '{corrupt}'" in p.stderr
    p = run(["geoip", "--geoip", tmp_path / "missing.mmdb", "1.2.3.4"])
    assert p.returncode == 1 and "No such file" in p.stderr
    p = run(["geoip", "not-an-address"])
    assert p.returncode == 2 and "invalid address 'not-an-address'" in p.stderr
    p = run(["geoip", "--json", "999.1.1.1"])
    assert p.returncode == 2 and '"error"' in p.stdout + p.stderr
