//! Reading OpenStreetMap extracts: which ways are kept, where the graph is
//! noded, and that `.osm` XML and `.osm.pbf` give the same graph.
//!
//! The PBF form of the sample is written by a minimal PBF writer below
//! (uncompressed blobs, dense nodes), since no crate here writes PBF.

use std::path::PathBuf;

use gridpatrol::routing::{RoadGraph, is_patrol_way};

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/osm/songjiang_sample.osm")
}

fn sample_xml() -> Vec<u8> {
    std::fs::read(sample_path()).expect("sample .osm")
}

#[test]
fn keeps_the_ways_an_officer_can_walk() {
    let g = RoadGraph::from_osm_xml(&sample_xml()).expect("graph");
    // Junctions and ends: 1, 3, 5, 10, 12, 13, 21, 50, 81 (the pond loop's
    // middle), 90, and 91, 92 beyond the missing node.
    assert_eq!(g.node_count(), 12);
    assert_eq!(g.edge_count(), 11);
    let has_node_at = |lon: f64, lat: f64| {
        g.nodes()
            .iter()
            .any(|p| (p.lon() - lon).abs() < 1e-9 && (p.lat() - lat).abs() < 1e-9)
    };
    assert!(
        has_node_at(121.2250, 31.0340),
        "crossing of 人民北路 and 荣乐东路"
    );
    assert!(
        !has_node_at(121.2220, 31.0340),
        "node 11 is shared only with an excluded expressway"
    );
    assert!(
        !has_node_at(121.2250, 31.0360),
        "node 4 is shared only with an excluded cycleway"
    );
    assert!(
        has_node_at(121.2310, 31.0320),
        "private service road open on foot"
    );
    assert!(!has_node_at(121.2320, 31.0390), "private footway");
    assert!(!has_node_at(121.2350, 31.0270), "motorway");
    assert!(!has_node_at(121.2210, 31.0360), "pedestrian area");
    assert!(
        g.edges().iter().all(|e| e.from() != e.to()),
        "no loop edges"
    );
    // Edge geometry keeps the intermediate way nodes.
    let south = g
        .edges()
        .iter()
        .find(|e| e.geometry().0.len() == 3 && (e.geometry().0[1].y - 31.0320).abs() < 1e-9)
        .expect("人民北路 south of the crossing, through node 2");
    assert!(
        (south.length_m() - 443.6).abs() < 1.0,
        "{}",
        south.length_m()
    );
    // The piece beyond the extract's border is its own component.
    let labels = g.component_labels();
    assert_eq!(labels.iter().max(), Some(&1));
    assert_eq!(g.largest_component().node_count(), 10);
}

#[test]
fn tag_rules() {
    let tags = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
    };
    assert!(is_patrol_way(tags(&[("highway", "residential")])));
    assert!(is_patrol_way(tags(&[("highway", "trunk")])));
    assert!(!is_patrol_way(tags(&[
        ("highway", "trunk_link"),
        ("motorroad", "yes")
    ])));
    assert!(!is_patrol_way(tags(&[("highway", "motorway_link")])));
    assert!(!is_patrol_way(tags(&[
        ("highway", "primary"),
        ("foot", "use_sidepath")
    ])));
    assert!(!is_patrol_way(tags(&[
        ("highway", "service"),
        ("access", "no")
    ])));
    assert!(is_patrol_way(tags(&[
        ("highway", "service"),
        ("access", "no"),
        ("foot", "permissive")
    ])));
    assert!(!is_patrol_way(tags(&[("building", "yes")])));
}

#[test]
fn pbf_gives_the_same_graph_as_xml() {
    let xml = sample_xml();
    let from_xml = RoadGraph::from_osm_xml(&xml).expect("xml graph");
    let pbf = pbf::write(&pbf::parse_osm(&xml));
    let from_pbf = RoadGraph::from_osm_pbf(&pbf).expect("pbf graph");
    assert_same(&from_xml, &from_pbf);

    let dir = std::env::temp_dir().join(format!("gridpatrol-osm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("songjiang_sample.osm.pbf");
    std::fs::write(&path, &pbf).expect("write pbf");
    let from_file = RoadGraph::from_osm_path(&path).expect("pbf file");
    let from_xml_file = RoadGraph::from_osm_path(sample_path()).expect("xml file");
    std::fs::remove_dir_all(&dir).ok();
    assert_same(&from_xml, &from_file);
    assert_same(&from_xml, &from_xml_file);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(RoadGraph::from_osm_xml(b"<osm><node id=\"x\" lat=\"1\" lon=\"2\"/></osm>").is_err());
    assert!(RoadGraph::from_osm_pbf(b"\x00\x00\x00\x05hello").is_err());
    assert!(RoadGraph::from_osm_path("/nonexistent/songjiang.osm.pbf").is_err());
}

fn assert_same(a: &RoadGraph, b: &RoadGraph) {
    assert_eq!(a.node_count(), b.node_count());
    assert_eq!(a.edge_count(), b.edge_count());
    for (p, q) in a.nodes().iter().zip(b.nodes()) {
        assert!(p.distance_m(*q) < 0.02, "{p:?} vs {q:?}");
    }
    for (e, f) in a.edges().iter().zip(b.edges()) {
        assert_eq!((e.from(), e.to()), (f.from(), f.to()));
        assert!((e.length_m() - f.length_m()).abs() < 0.05);
    }
}

/// A minimal `.osm.pbf` writer: one header blob and one data blob, raw
/// (uncompressed), dense nodes and ways with tags, granularity 100 nanodegrees.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "protobuf varints and zigzag coding work on the bit patterns"
)]
mod pbf {
    use quick_xml::events::Event;

    /// A way: id, node refs, tags.
    type Way = (i64, Vec<i64>, Vec<(String, String)>);

    pub struct Osm {
        pub nodes: Vec<(i64, f64, f64)>,
        pub ways: Vec<Way>,
    }

    fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> String {
        let a = e
            .try_get_attribute(name)
            .expect("attribute")
            .expect("present");
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .expect("value")
            .into_owned()
    }

    pub fn parse_osm(xml: &[u8]) -> Osm {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut osm = Osm {
            nodes: Vec::new(),
            ways: Vec::new(),
        };
        loop {
            match reader.read_event().expect("xml") {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    "node" => osm.nodes.push((
                        attr(&e, "id").parse().expect("id"),
                        attr(&e, "lat").parse().expect("lat"),
                        attr(&e, "lon").parse().expect("lon"),
                    )),
                    "way" => {
                        osm.ways.push((
                            attr(&e, "id").parse().expect("id"),
                            Vec::new(),
                            Vec::new(),
                        ));
                    }
                    "nd" => osm
                        .ways
                        .last_mut()
                        .expect("way")
                        .1
                        .push(attr(&e, "ref").parse().expect("ref")),
                    "tag" => {
                        if let Some(w) = osm.ways.last_mut() {
                            w.2.push((attr(&e, "k"), attr(&e, "v")));
                        }
                    }
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        osm
    }

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn zigzag(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
        varint(out, (field << 3) | wire);
    }

    fn bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
        key(out, field, 2);
        varint(out, data.len() as u64);
        out.extend_from_slice(data);
    }

    fn uint(out: &mut Vec<u8>, field: u64, v: u64) {
        key(out, field, 0);
        varint(out, v);
    }

    fn packed_sint_delta(out: &mut Vec<u8>, field: u64, values: &[i64]) {
        let mut buf = Vec::new();
        let mut prev = 0;
        for &v in values {
            varint(&mut buf, zigzag(v - prev));
            prev = v;
        }
        bytes(out, field, &buf);
    }

    fn packed_uint(out: &mut Vec<u8>, field: u64, values: &[u32]) {
        let mut buf = Vec::new();
        for &v in values {
            varint(&mut buf, u64::from(v));
        }
        bytes(out, field, &buf);
    }

    fn blob(out: &mut Vec<u8>, kind: &str, payload: &[u8]) {
        let mut blob = Vec::new();
        bytes(&mut blob, 1, payload); // raw
        uint(&mut blob, 2, payload.len() as u64); // raw_size
        let mut header = Vec::new();
        bytes(&mut header, 1, kind.as_bytes()); // type
        uint(&mut header, 3, blob.len() as u64); // datasize
        out.extend_from_slice(&(header.len() as u32).to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&blob);
    }

    pub fn write(osm: &Osm) -> Vec<u8> {
        let mut out = Vec::new();
        let mut header = Vec::new();
        bytes(&mut header, 4, b"OsmSchema-V0.6");
        bytes(&mut header, 4, b"DenseNodes");
        bytes(&mut header, 16, b"gridpatrol tests");
        blob(&mut out, "OSMHeader", &header);

        let mut strings: Vec<String> = vec![String::new()];
        let mut sid = |s: &str| -> u32 {
            if let Some(i) = strings.iter().position(|x| x == s) {
                return i as u32;
            }
            strings.push(s.to_owned());
            (strings.len() - 1) as u32
        };
        let mut dense = Vec::new();
        let ids: Vec<i64> = osm.nodes.iter().map(|n| n.0).collect();
        let lats: Vec<i64> = osm
            .nodes
            .iter()
            .map(|n| (n.1 * 1e7).round() as i64)
            .collect();
        let lons: Vec<i64> = osm
            .nodes
            .iter()
            .map(|n| (n.2 * 1e7).round() as i64)
            .collect();
        packed_sint_delta(&mut dense, 1, &ids);
        packed_sint_delta(&mut dense, 8, &lats);
        packed_sint_delta(&mut dense, 9, &lons);
        let mut node_group = Vec::new();
        bytes(&mut node_group, 2, &dense);
        let mut way_group = Vec::new();
        for (id, refs, tags) in &osm.ways {
            let mut way = Vec::new();
            uint(&mut way, 1, *id as u64);
            let keys: Vec<u32> = tags.iter().map(|(k, _)| sid(k)).collect();
            let vals: Vec<u32> = tags.iter().map(|(_, v)| sid(v)).collect();
            packed_uint(&mut way, 2, &keys);
            packed_uint(&mut way, 3, &vals);
            packed_sint_delta(&mut way, 8, refs);
            bytes(&mut way_group, 3, &way);
        }
        let mut table = Vec::new();
        for s in &strings {
            bytes(&mut table, 1, s.as_bytes());
        }
        let mut block = Vec::new();
        bytes(&mut block, 1, &table);
        bytes(&mut block, 2, &node_group);
        bytes(&mut block, 2, &way_group);
        uint(&mut block, 17, 100); // granularity
        blob(&mut out, "OSMData", &block);
        out
    }
}
