//! Road graphs from OpenStreetMap: `.osm` XML and `.osm.pbf`.
//!
//! # Which ways are kept
//!
//! Officers patrol on foot or by e-bike, and one graph serves both modes
//! (the mode only sets the speed), so a way is kept when a person may walk
//! it:
//!
//! - it has a `highway` tag, other than `motorway`, `motorway_link`, the
//!   non-roads (`construction`, `proposed`, `abandoned`, `disused`,
//!   `raceway`, `bus_guideway`, `busway`, `platform`, `rest_area`,
//!   `services`, `elevator`, `escape`, `corridor`, `via_ferrata`);
//! - `trunk`/`trunk_link` only without `motorroad=yes`: in Chinese tagging
//!   that marks elevated and expressway sections closed to pedestrians and
//!   (e-)bikes, while at-grade trunk roads have pavements;
//! - not an area (`area=yes`: squares and plazas are outlines, not paths);
//! - `foot` not `no`, `private` or `use_sidepath` (the separately mapped
//!   pavement is used instead); without a `foot` tag, `access` not `no` or
//!   `private`, and `foot=yes|designated|permissive|destination` reopens a
//!   way that `access` closes.
//!
//! Relations are ignored. The graph is noded where kept ways share an OSM
//! node and at way ends; other way nodes become edge geometry. A closed way
//! that touches nothing else is split at its middle node, so that no edge is
//! a loop. Way nodes missing from the extract (ways cut at its border) end
//! the way there.

use std::collections::HashMap;
use std::path::Path;

use geo::{Coord, LineString};

use super::error::RoutingError;
use super::graph::{Edge, EdgeKind, NodeId, RoadGraph};
use crate::spatial::LonLat;

const EXCLUDED_HIGHWAYS: &[&str] = &[
    "motorway",
    "motorway_link",
    "construction",
    "proposed",
    "abandoned",
    "disused",
    "raceway",
    "bus_guideway",
    "busway",
    "platform",
    "rest_area",
    "services",
    "elevator",
    "escape",
    "corridor",
    "via_ferrata",
];

/// Whether a way with these tags is kept in a patrol graph (see the module
/// documentation). `tag` looks a key up.
#[must_use]
pub fn is_patrol_way<'a>(tag: impl Fn(&str) -> Option<&'a str>) -> bool {
    let Some(highway) = tag("highway") else {
        return false;
    };
    if EXCLUDED_HIGHWAYS.contains(&highway) {
        return false;
    }
    if matches!(highway, "trunk" | "trunk_link") && tag("motorroad") == Some("yes") {
        return false;
    }
    if tag("area") == Some("yes") {
        return false;
    }
    match tag("foot") {
        Some("no" | "private" | "use_sidepath") => false,
        Some("yes" | "designated" | "permissive" | "destination") => true,
        _ => !matches!(tag("access"), Some("no" | "private")),
    }
}

/// Kept ways (node id lists) and the coordinates of the nodes they use.
#[derive(Debug, Default)]
struct OsmRoads {
    ways: Vec<Vec<i64>>,
    coords: HashMap<i64, LonLat>,
}

impl RoadGraph {
    /// Reads an OpenStreetMap XML document (`.osm`).
    pub fn from_osm_xml(xml: &[u8]) -> Result<Self, RoutingError> {
        Ok(read_xml(xml)?.into_graph())
    }

    /// Reads an OpenStreetMap PBF file's bytes (`.osm.pbf`).
    pub fn from_osm_pbf(bytes: &[u8]) -> Result<Self, RoutingError> {
        let roads = read_pbf(|| Ok(osmpbf::ElementReader::new(std::io::Cursor::new(bytes))))?;
        Ok(roads.into_graph())
    }

    /// Reads an OpenStreetMap file: PBF when the name ends in `.pbf`, XML
    /// otherwise. PBF files are streamed twice (ways, then the nodes they
    /// use) rather than held in memory.
    pub fn from_osm_path(path: impl AsRef<Path>) -> Result<Self, RoutingError> {
        let path = path.as_ref();
        let is_pbf = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pbf"));
        if is_pbf {
            let roads = read_pbf(|| {
                let file = std::fs::File::open(path).map_err(|source| RoutingError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok(osmpbf::ElementReader::new(std::io::BufReader::new(file)))
            })?;
            Ok(roads.into_graph())
        } else {
            let bytes = std::fs::read(path).map_err(|source| RoutingError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Self::from_osm_xml(&bytes)
        }
    }
}

fn read_pbf<R: std::io::Read + Send>(
    open: impl Fn() -> Result<osmpbf::ElementReader<R>, RoutingError>,
) -> Result<OsmRoads, RoutingError> {
    let mut roads = OsmRoads::default();
    open()?
        .for_each(|element| {
            if let osmpbf::Element::Way(way) = element {
                let tags: Vec<(&str, &str)> = way.tags().collect();
                let tag = |k: &str| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
                if is_patrol_way(tag) {
                    roads.ways.push(way.refs().collect());
                }
            }
        })
        .map_err(RoutingError::OsmPbf)?;
    let needed: std::collections::HashSet<i64> = roads.ways.iter().flatten().copied().collect();
    open()?
        .for_each(|element| {
            let (id, lon, lat) = match element {
                osmpbf::Element::Node(n) => (n.id(), n.lon(), n.lat()),
                osmpbf::Element::DenseNode(n) => (n.id(), n.lon(), n.lat()),
                _ => return,
            };
            if let (true, Ok(p)) = (needed.contains(&id), LonLat::new(lon, lat)) {
                roads.coords.insert(id, p);
            }
        })
        .map_err(RoutingError::OsmPbf)?;
    Ok(roads)
}

fn attribute<T: std::str::FromStr>(
    e: &quick_xml::events::BytesStart<'_>,
    element: &'static str,
    name: &'static str,
) -> Result<T, RoutingError> {
    let bad = || RoutingError::OsmAttribute {
        element,
        attribute: name,
    };
    let attr = e
        .try_get_attribute(name)
        .map_err(|err| RoutingError::OsmXml(err.into()))?
        .ok_or_else(bad)?;
    let value = attr
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map_err(RoutingError::OsmXml)?;
    value.parse().map_err(|_| bad())
}

/// A way's node refs and tags while its element is read.
type WayBeingRead = (Vec<i64>, Vec<(String, String)>);

fn read_xml(xml: &[u8]) -> Result<OsmRoads, RoutingError> {
    use quick_xml::events::Event;

    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut roads = OsmRoads::default();
    // The way being read: its node refs and tags.
    let mut way: Option<WayBeingRead> = None;
    loop {
        let event = reader.read_event().map_err(RoutingError::OsmXml)?;
        match &event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "node" => {
                    let id: i64 = attribute(e, "node", "id")?;
                    let lon: f64 = attribute(e, "node", "lon")?;
                    let lat: f64 = attribute(e, "node", "lat")?;
                    if let Ok(p) = LonLat::new(lon, lat) {
                        roads.coords.insert(id, p);
                    }
                }
                "way" if matches!(event, Event::Start(_)) => way = Some((Vec::new(), Vec::new())),
                "nd" => {
                    if let Some((refs, _)) = way.as_mut() {
                        refs.push(attribute(e, "nd", "ref")?);
                    }
                }
                "tag" => {
                    if let Some((_, tags)) = way.as_mut() {
                        tags.push((attribute(e, "tag", "k")?, attribute(e, "tag", "v")?));
                    }
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == "way" => {
                if let Some((refs, tags)) = way.take() {
                    let tag = |k: &str| {
                        tags.iter()
                            .find(|(key, _)| key == k)
                            .map(|(_, v)| v.as_str())
                    };
                    if is_patrol_way(tag) {
                        roads.ways.push(refs);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let needed: std::collections::HashSet<i64> = roads.ways.iter().flatten().copied().collect();
    roads.coords.retain(|id, _| needed.contains(id));
    Ok(roads)
}

impl OsmRoads {
    /// Ways cut where a node is missing, with repeated consecutive refs removed.
    fn pieces(&self) -> Vec<Vec<i64>> {
        let mut out = Vec::new();
        for way in &self.ways {
            let mut cur: Vec<i64> = Vec::new();
            for &id in way {
                if !self.coords.contains_key(&id) {
                    if cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                } else if cur.last() != Some(&id) {
                    cur.push(id);
                }
            }
            if cur.len() >= 2 {
                out.push(cur);
            }
        }
        out
    }

    fn into_graph(self) -> RoadGraph {
        let pieces = self.pieces();
        // Junctions: way ends, and nodes used more than once.
        let mut uses: HashMap<i64, u32> = HashMap::new();
        for piece in &pieces {
            for &id in piece {
                *uses.entry(id).or_default() += 1;
            }
        }
        let mut junction: std::collections::HashSet<i64> = uses
            .iter()
            .filter(|&(_, &n)| n > 1)
            .map(|(&id, _)| id)
            .collect();
        for piece in &pieces {
            junction.extend([piece[0], piece[piece.len() - 1]]);
        }
        // Loops between one junction and itself: split them at the middle.
        for piece in &pieces {
            let mut start = 0;
            for i in 1..piece.len() {
                if junction.contains(&piece[i]) {
                    if piece[i] == piece[start] && i - start >= 2 {
                        junction.insert(piece[usize::midpoint(start, i)]);
                    }
                    start = i;
                }
            }
        }
        let mut ids: HashMap<i64, NodeId> = HashMap::new();
        let mut nodes: Vec<LonLat> = Vec::new();
        let mut node_of = |id: i64, p: LonLat| {
            *ids.entry(id).or_insert_with(|| {
                nodes.push(p);
                NodeId(nodes.len() - 1)
            })
        };
        let mut edges = Vec::new();
        for piece in &pieces {
            let mut start = 0;
            for i in 1..piece.len() {
                if !junction.contains(&piece[i]) {
                    continue;
                }
                let coords: Vec<Coord<f64>> = piece[start..=i]
                    .iter()
                    .map(|id| Coord::from(self.coords[id]))
                    .collect();
                let from = node_of(piece[start], self.coords[&piece[start]]);
                let to = node_of(piece[i], self.coords[&piece[i]]);
                if from != to {
                    edges.push(Edge::new(
                        from,
                        to,
                        EdgeKind::Road,
                        LineString::from(coords),
                    ));
                }
                start = i;
            }
        }
        RoadGraph::assemble(nodes, edges)
    }
}
