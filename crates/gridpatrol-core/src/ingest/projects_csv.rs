//! The town ledger's project CSV (UTF-8, header row). Chinese headers as the
//! ledgers export them (工程名称, 工程类别, 资金来源, 投资额, 建筑面积, 经度,
//! 纬度, ...) and the API's English names are both accepted.

use geo::{Geometry, Point};
use serde_json::{Map, Value as Json};

use super::IngestError;
use super::features::{Props, project_from_props};
use crate::domain::{Invalid, Project};
use crate::spatial::{Crs, LonLat};

/// The canonical field a header names, and a factor for amounts given in
/// 万元 (10,000 CNY).
fn canonical(header: &str) -> Option<(&'static str, f64)> {
    let h = header.trim().trim_start_matches('\u{feff}');
    let h_lower = h.to_ascii_lowercase();
    let field = match h_lower.as_str() {
        "code" | "工程编号" | "项目编号" | "编号" | "备案编号" => "code",
        "name" | "工程名称" | "项目名称" => "name",
        "category" | "工程类别" | "工程类型" | "类别" => "category",
        "funding" | "资金来源" | "投资主体" | "投资类型" => "funding",
        "investment_cny" | "投资额" | "投资额(元)" | "投资额（元）" | "工程造价"
        | "工程造价(元)" => "investment_cny",
        "投资额(万元)" | "投资额（万元）" | "工程造价(万元)" | "工程造价（万元）" =>
        {
            return Some(("investment_cny", 10_000.0));
        }
        "floor_area_m2"
        | "建筑面积"
        | "建筑面积(平方米)"
        | "建筑面积（平方米）"
        | "建筑面积(㎡)"
        | "面积" => "floor_area_m2",
        "status" | "工程状态" | "状态" => "status",
        "started_on" | "开工日期" | "开工时间" => "started_on",
        "completed_on" | "竣工日期" | "竣工备案日期" => "completed_on",
        "hot_work" | "动火作业" | "动火" => "hot_work",
        "insulation" | "保温材料" => "insulation",
        "steel_mezzanine" | "钢结构夹层" | "违规钢结构夹层" => "steel_mezzanine",
        "insured" | "已投保" | "保险" | "工程保险" => "insured",
        "address" | "地址" | "工程地址" => "address",
        "town" | "街镇" | "所属街镇" => "town",
        "lon" | "lng" | "longitude" | "经度" => "lon",
        "lat" | "latitude" | "纬度" => "lat",
        _ => return None,
    };
    Some((field, 1.0))
}

/// Reads the CSV into projects; positions are converted from `crs`.
pub fn read(bytes: &[u8], crs: Crs) -> Result<Vec<Project>, IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| IngestError::new(Some("line 1".into()), "header", e.to_string()))?
        .clone();
    let columns: Vec<Option<(&str, f64)>> = headers.iter().map(canonical).collect();
    for need in ["name", "category", "funding", "lon", "lat"] {
        if !columns.iter().flatten().any(|(f, _)| *f == need) {
            return Err(IngestError::new(
                Some("line 1".into()),
                need,
                "column is missing",
            ));
        }
    }
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let line = format!("line {}", i + 2);
        let row = row.map_err(|e| IngestError::new(Some(line.clone()), "row", e.to_string()))?;
        let mut map = Map::new();
        for (value, col) in row.iter().zip(&columns) {
            let Some((field, factor)) = col else { continue };
            if value.is_empty() {
                continue;
            }
            crate::domain::check_text(field, value)
                .map_err(|e| IngestError::at(line.clone(), e))?;
            let v = if (*factor - 1.0).abs() < f64::EPSILON {
                Json::String(value.to_owned())
            } else {
                let x: f64 = value.parse().map_err(|_| {
                    IngestError::new(
                        Some(line.clone()),
                        *field,
                        format!("{value:?} is not a number"),
                    )
                })?;
                serde_json::Number::from_f64((x * factor).round()).map_or(Json::Null, Json::Number)
            };
            map.insert((*field).to_owned(), v);
        }
        let project = read_row(&map, crs).map_err(|e| IngestError::at(line, e))?;
        out.push(project);
    }
    Ok(out)
}

fn read_row(map: &Map<String, Json>, crs: Crs) -> Result<Project, Invalid> {
    let p = Props::from_map(map);
    let lon = p
        .opt_f64("lon")?
        .ok_or_else(|| Invalid::new("lon", "is required"))?;
    let lat = p
        .opt_f64("lat")?
        .ok_or_else(|| Invalid::new("lat", "is required"))?;
    let pos = LonLat::from_crs(crs, lon, lat).map_err(|e| {
        let field = if matches!(e, crate::spatial::CoordError::Latitude(_)) {
            "lat"
        } else {
            "lon"
        };
        Invalid::new(field, e.to_string())
    })?;
    project_from_props(&p, Some(Geometry::Point(Point::from(pos))))
}
