//! Parse errors: each names where the file went wrong (line, column,
//! feature, field or byte offset) in words a user can act on.

use super::*;

#[test]
fn empty_files_are_refused_in_every_format() {
    for format in [TrackFormat::Gpx, TrackFormat::GeoJson, TrackFormat::Csv] {
        let text = err_text(parse(b" \n\t", format));
        assert!(text.contains("is empty"), "{text}");
    }
}

#[test]
fn gpx_malformed_xml_names_the_line() {
    let doc = "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n\
               <trkpt lat=\"31.05\" lon=\"121.21\"></trkpt>\n<trkpt lat=\"31.06\" lon=\"121.21\">\n</trkseg></trk></gpx>\n";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 6:") && text.contains("malformed"),
        "{text}"
    );
}

#[test]
fn gpx_bad_coordinate_names_the_line() {
    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk>\n<trkseg>\n\
               <trkpt lat=\"31.05\" lon=\"121.21\"/>\n<trkpt lat=\"abc\" lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert_eq!(
        text,
        "GPX near line 5: a coordinate or number is not a number"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"95\" lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 3:") && text.contains("latitude 95"),
        "{text}"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lon=\"121.21\"/>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 3:") && text.contains("no latitude attribute"),
        "{text}"
    );
}

#[test]
fn gpx_bad_time_and_unknown_element_name_the_line() {
    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"31\" lon=\"121.2\">\n\
               <time>yesterday</time></trkpt>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 4:") && text.contains("<time>"),
        "{text}"
    );

    let doc = "<gpx version=\"1.1\" creator=\"t\">\n<trk><trkseg>\n<trkpt lat=\"31\" lon=\"121.2\">\n\
               <officer>王磊</officer></trkpt>\n</trkseg></trk></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert!(
        text.starts_with("GPX near line 4:") && text.contains("<officer>"),
        "{text}"
    );
}

#[test]
fn gpx_without_tracks_has_no_points() {
    let doc = "<gpx version=\"1.1\" creator=\"t\"><wpt lat=\"31\" lon=\"121.2\"/></gpx>";
    let text = err_text(parse_gpx(doc.as_bytes()));
    assert_eq!(text, "the GPX file holds no track points");
}

#[test]
fn geojson_syntax_error_names_line_and_column() {
    let doc =
        "{\"type\": \"FeatureCollection\",\n \"features\": [\n  {\"type\": \"Feature\",, }\n]}";
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(text.starts_with("GeoJSON line 3, column "), "{text}");
    assert!(!text.contains("at line"), "{text}");
}

#[test]
fn geojson_times_that_do_not_match_name_the_feature_and_field() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"times":["2020-12-15T10:00:00Z"]},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON features[0].properties.times: has 1 times but the geometry has 2 vertices"
    );

    let doc = r#"{"type":"Feature","properties":{"coordTimes":[[1608001200],[1608001201,1608001202]]},
       "geometry":{"type":"MultiLineString","coordinates":[[[121.21,31.05]],[[121.21,31.06]]]}}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON feature.properties.coordTimes[1]: has 2 times but part 1 has 1 vertices"
    );

    let doc = r#"{"type":"Feature","properties":{"times":"yesterday"},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON feature.properties.times: must be an array of times"
    );
}

#[test]
fn geojson_bad_time_names_the_vertex() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"coordTimes":["2020-12-15T10:00:00Z","noon"]},
       "geometry":{"type":"LineString","coordinates":[[121.21,31.05],[121.21,31.06]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[0].properties.coordTimes[1]: 'noon' is not a time"),
        "{text}"
    );

    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"time":"2020-12-15T10:00:00Z"},"geometry":{"type":"Point","coordinates":[121.21,31.05]}},
      {"type":"Feature","properties":{"time":true},"geometry":{"type":"Point","coordinates":[121.21,31.06]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[1].properties.time: 'true' is not a time"),
        "{text}"
    );
}

#[test]
fn geojson_geometries_that_are_not_tracks_are_named() {
    let doc = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[121.2,31],[121.3,31],[121.3,31.1],[121.2,31]]]}}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert!(
        text.starts_with("GeoJSON features[0].geometry: a Polygon is not a track"),
        "{text}"
    );

    let doc = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(
        text,
        "GeoJSON features[0].geometry: the feature has no geometry"
    );

    let doc = r#"{"type":"FeatureCollection","features":[]}"#;
    let text = err_text(parse_geojson(doc.as_bytes()));
    assert_eq!(text, "the GeoJSON file holds no track points");
}

#[test]
fn non_utf8_text_is_refused_with_the_offset() {
    // "经度" in GBK.
    let bytes = b"time,lon,lat\n\xbe\xad\xb6\xc8,1,2\n";
    let text = err_text(parse_csv(bytes));
    assert!(
        text.contains("not UTF-8") && text.contains("byte 13"),
        "{text}"
    );
    let text = err_text(parse_geojson(b"{\"type\":\"\xff\"}"));
    assert!(
        text.contains("not UTF-8") && text.contains("byte 9"),
        "{text}"
    );
}

#[test]
fn csv_header_without_coordinates_names_the_column() {
    let text = err_text(parse_csv(
        "officer,time,lat\n王磊,2020-12-15 10:00:00,31.05\n".as_bytes(),
    ));
    assert!(
        text.starts_with("line 1: no longitude column (expected one of lon, lng"),
        "{text}"
    );
    assert!(text.contains("the header has officer, time, lat"), "{text}");

    let text = err_text(parse_csv("经度,lng,纬度\n1,2,3\n".as_bytes()));
    assert_eq!(
        text,
        "line 1: columns '经度' and 'lng' both name the longitude"
    );
}

#[test]
fn csv_bad_number_names_line_and_column() {
    let text = "巡查员,定位时间,经度,纬度\n王磊,2020-12-15 10:00:00,121.21,31.05\n王磊,2020-12-15 10:00:02,abc,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 3: column 经度: 'abc' is not a number");

    // Blank lines and CRLF endings do not shift the count.
    let text = "经度,纬度\r\n121.21,31.05\r\n\r\n\r\n121.21,x\r\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 5: column 纬度: 'x' is not a number");
}

#[test]
fn csv_bad_time_names_line_and_column() {
    let text = "officer,time,lon,lat\n王磊,2020-13-45 10:00:00,121.21,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert!(
        text.starts_with("line 2: column time: '2020-13-45 10:00:00' is not a time"),
        "{text}"
    );
}

#[test]
fn csv_ragged_row_names_the_line() {
    let text = "officer,time,lon,lat\n王磊,2020-12-15 10:00:00,121.21,31.05\n\n王磊,121.21,31.05\n";
    let text = err_text(parse_csv(text.as_bytes()));
    assert_eq!(text, "line 4: has 3 fields but the header has 4");
}

#[test]
fn csv_with_only_a_header_has_no_points() {
    let text = err_text(parse_csv(b"lon,lat\n"));
    assert_eq!(text, "the CSV file holds no track points");
}
