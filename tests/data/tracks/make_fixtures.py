#!/usr/bin/env python3
"""Builds the track fixtures of this folder from the AMM Shanghai traces.

Run from the repository root with shared/ beside it:
    python3 tests/data/tracks/make_fixtures.py ../shared/data/songjiang_gps_tracks_amm_points.csv
The output is committed; the script documents how it was made.
"""
import csv
import datetime as dt
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BEIJING = dt.timezone(dt.timedelta(hours=8))

rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))


def track(tid, start, end, step=1):
    pts = [r for r in rows if r["track_id"] == tid]
    return [(r["lon"], r["lat"], int(r["locatetime_ms"])) for r in pts[start:end:step]]


def utc(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)


def iso_z(ms):
    return utc(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_bj(ms):
    return utc(ms).astimezone(BEIJING).isoformat(timespec="seconds")


def naive_bj(ms):
    return utc(ms).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def write(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
        f.write(text)


# GCJ-02 forward transform, as in src/spatial/crs.rs.
A = 6378245.0
EE = 0.006693421622965943


def _lat(x, y):
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _lon(x, y):
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def gcj02(lon, lat):
    d_lat = _lat(lon - 105.0, lat - 35.0)
    d_lon = _lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((A * (1 - EE)) / (magic * sq) * math.pi)
    d_lon = (d_lon * 180.0) / (A / sq * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


# 1. GPX 1.1: one track of two segments (a gap of 13 minutes between them),
#    a second track, officer from <src> and from the metadata author.
def trkpts(points, indent):
    return "".join(
        f'{indent}<trkpt lat="{lat}" lon="{lon}"><time>{iso_z(ms)}</time></trkpt>\n'
        for lon, lat, ms in points
    )


gpx11 = f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="GPS Logger for Android"
     xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
  <metadata>
    <name>松江 巡查轨迹 2020-12-15</name>
    <author><name>陈静</name></author>
    <time>{iso_z(track("2", 0, 1)[0][2])}</time>
  </metadata>
  <trk>
    <name>方松街道 夜间巡查</name>
    <src>王磊</src>
    <trkseg>
{trkpts(track("2", 0, 40), "      ")}    </trkseg>
    <trkseg>
{trkpts(track("2", 840, 880), "      ")}    </trkseg>
  </trk>
  <trk>
    <name>车墩镇 上午巡查</name>
    <trkseg>
{trkpts(track("83", 0, 30), "      ")}    </trkseg>
  </trk>
</gpx>
"""
write("songjiang_two_segments_gpx11.gpx", gpx11)

# 2. GPX 1.0 without times: a track and a planned route.
gpx10_trk = "".join(
    f'      <trkpt lat="{lat}" lon="{lon}"></trkpt>\n' for lon, lat, _ in track("63", 600, 660)
)
gpx10_rte = "".join(
    f'    <rtept lat="{lat}" lon="{lon}"><name>R{i}</name></rtept>\n'
    for i, (lon, lat, _) in enumerate(track("63", 700, 790, 15))
)
gpx10 = f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.0" creator="GPSBabel - https://www.gpsbabel.org" xmlns="http://www.topografix.com/GPX/1/0">
  <name>新桥镇 巡查</name>
  <author>李娜</author>
  <trk>
    <name>新桥镇 无时间轨迹</name>
    <trkseg>
{gpx10_trk}    </trkseg>
  </trk>
  <rte>
    <name>新桥镇 计划路线</name>
{gpx10_rte}  </rte>
</gpx>
"""
write("songjiang_untimed_gpx10.gpx", gpx10)

# 3. GeoJSON lines with per-vertex times.
line = track("83", 120, 160)
multi = [track("63", 540, 560), track("63", 570, 590)]
coordtimes = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "name": "车墩镇 巡查",
                "officer": "张伟",
                "device": "SJ-PT-083",
                "coordTimes": [iso_z(ms) for _, _, ms in line],
            },
            "geometry": {
                "type": "LineString",
                "coordinates": [[float(lon), float(lat)] for lon, lat, _ in line],
            },
        },
        {
            "type": "Feature",
            "properties": {
                "name": "新桥镇 巡查",
                "officer": "李娜",
                "device": "SJ-PT-063",
                "times": [[ms for _, _, ms in part] for part in multi],
            },
            "geometry": {
                "type": "MultiLineString",
                "coordinates": [[[float(lon), float(lat)] for lon, lat, _ in part] for part in multi],
            },
        },
    ],
}
write("songjiang_coordtimes.geojson", json.dumps(coordtimes, ensure_ascii=False, indent=1) + "\n")

# 4. GeoJSON timed points of two officers, interleaved by time.
a = [("王磊", "SJ-PT-0356", lon, lat, ms) for lon, lat, ms in track("2", 860, 890)]
b = [("赵敏", "SJ-PT-1748", lon, lat, ms) for lon, lat, ms in track("63", 700, 730)]
features = []
for officer, device, lon, lat, ms in sorted(a + b, key=lambda r: r[4]):
    props = {"officer": officer, "device": device}
    if officer == "王磊":
        props["time"] = iso_bj(ms)
    else:
        props["timestamp"] = ms // 1000
    features.append(
        {"type": "Feature", "properties": props,
         "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]}}
    )
write(
    "songjiang_timed_points.geojson",
    json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1) + "\n",
)

# 5-7. CSV exports: English, Chinese (BOM, naive Beijing time), and the
#      Chinese one again in GCJ-02, as a platform on Amap coordinates writes it.
walk = sorted(
    [("张伟", "SJ-PT-083", lon, lat, ms) for lon, lat, ms in track("83", 620, 660)]
    + [("李娜", "SJ-PT-063", lon, lat, ms) for lon, lat, ms in track("63", 700, 740)],
    key=lambda r: r[4],
)
en = "officer,device,time,lon,lat\n" + "".join(
    f"{o},{d},{iso_bj(ms)},{lon},{lat}\n" for o, d, lon, lat, ms in walk
)
write("songjiang_patrol_en.csv", en)
zh = "\ufeff巡查员,设备号,定位时间,经度,纬度\n" + "".join(
    f"{o},{d},{naive_bj(ms)},{lon},{lat}\n" for o, d, lon, lat, ms in walk
)
write("songjiang_patrol_zh.csv", zh)


def gcj_row(o, d, lon, lat, ms):
    g_lon, g_lat = gcj02(float(lon), float(lat))
    return f"{o},{d},{naive_bj(ms)},{g_lon:.8f},{g_lat:.8f}\n"


zh_gcj = "\ufeff巡查员,设备号,定位时间,经度,纬度\n" + "".join(gcj_row(*r) for r in walk)
write("songjiang_patrol_zh_gcj02.csv", zh_gcj)
