//! What each exportable list holds: where its rows are in the JSON answer,
//! where their geometry is, and its columns — the answer's key, the Chinese
//! header and how the value is shown to people ([`Kind`]: Beijing time,
//! names for town codes, Chinese labels for the vocabularies).

use crate::blindspots::works::WorkGap;
use crate::domain::{Category, Funding, ProjectStatus, VenueKind};
use crate::inspection::{HazardKind, HazardStatus, Severity};

/// Where the rows of an answer are.
#[derive(Debug, Clone, Copy)]
pub enum Items {
    /// A GeoJSON FeatureCollection: the features, their properties.
    Features,
    /// An array under this key.
    Key(&'static str),
}

/// Where a row's geometry is.
#[derive(Debug, Clone, Copy)]
pub enum Geom {
    /// The feature's geometry.
    Feature,
    /// `lon` and `lat` keys.
    LonLat,
    /// A `[lon, lat]` array under this key.
    Pair(&'static str),
}

/// How a value is shown.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Int,
    Num,
    /// 是 or 否.
    Bool,
    /// An instant (RFC 3339 or epoch milliseconds) in Beijing time.
    Time,
    /// A town code, shown by the town's name.
    Town,
    /// A login, shown by the person's name (夏卫国, not `officer01`).
    Person,
    /// A vocabulary's API name, shown by its Chinese label.
    Label(fn(&str) -> Option<&'static str>),
    /// A list of reasons, by their Chinese text.
    Reasons,
    /// A list of values, joined with 、.
    List,
    /// A share 0–1 as a percentage.
    Percent,
}

/// A column: the answer's key (a path with `.` for nested keys), the
/// Chinese header and the kind.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub key: &'static str,
    pub zh: &'static str,
    pub kind: Kind,
}

/// An exportable list.
#[derive(Debug)]
pub struct Spec {
    /// The route, as the router matches it.
    pub path: &'static str,
    /// The file's (and the sheet's) Chinese name.
    pub title: &'static str,
    /// An ASCII file name for clients that cannot read the Chinese one.
    pub file: &'static str,
    pub items: Items,
    pub geometry: Option<Geom>,
    pub columns: &'static [Col],
}

const fn c(key: &'static str, zh: &'static str, kind: Kind) -> Col {
    Col { key, zh, kind }
}

fn category(s: &str) -> Option<&'static str> {
    s.parse::<Category>().ok().map(Category::label_zh)
}
fn funding(s: &str) -> Option<&'static str> {
    s.parse::<Funding>().ok().map(Funding::label_zh)
}
fn status(s: &str) -> Option<&'static str> {
    s.parse::<ProjectStatus>().ok().map(ProjectStatus::label_zh)
}
fn venue(s: &str) -> Option<&'static str> {
    s.parse::<VenueKind>().ok().map(VenueKind::label_zh)
}
fn hazard_kind(s: &str) -> Option<&'static str> {
    s.parse::<HazardKind>().ok().map(HazardKind::label_zh)
}
fn severity(s: &str) -> Option<&'static str> {
    s.parse::<Severity>().ok().map(Severity::label_zh)
}
fn hazard_status(s: &str) -> Option<&'static str> {
    s.parse::<HazardStatus>().ok().map(HazardStatus::label_zh)
}
fn gap(s: &str) -> Option<&'static str> {
    s.parse::<WorkGap>().ok().map(WorkGap::label_zh)
}
fn entry(s: &str) -> Option<&'static str> {
    match s {
        "inspection" => Some("检查"),
        "hazard_found" => Some("发现隐患"),
        "status_changed" => Some("状态变更"),
        _ => None,
    }
}
fn route_kind(s: &str) -> Option<&'static str> {
    match s {
        "patrol" => Some("巡查"),
        "sweep" => Some("扫街"),
        _ => None,
    }
}

use Kind::{Bool, Int, Label, List, Num, Percent, Person, Reasons, Text, Time, Town};

/// Every exportable list.
pub static SPECS: &[Spec] = &[
    Spec {
        path: "/api/v1/coverage",
        title: "巡查覆盖单元格",
        file: "coverage-cells",
        items: Items::Features,
        geometry: Some(Geom::Feature),
        columns: &[
            c("cell", "H3单元格", Text),
            c("patrolled", "已巡查", Bool),
            c("visits", "巡查次数", Int),
            c("last_patrolled", "最近巡查时间", Time),
            c("days_since_patrol", "距今天数", Int),
            c("overdue", "超期未巡", Bool),
            c("interval_days", "巡查周期（天）", Int),
            c("patrolled_share", "已巡查比例", Percent),
            c("overdue_share", "超期比例", Percent),
        ],
    },
    Spec {
        path: "/api/v1/coverage/summary",
        title: "巡查覆盖汇总",
        file: "coverage-summary",
        items: Items::Key("areas"),
        geometry: None,
        columns: &[
            c("name", "名称", Text),
            c("cells", "单元格数", Int),
            c("patrolled_cells", "已巡查单元格", Int),
            c("ratio", "巡查覆盖率", Percent),
            c("overdue_cells", "超期未巡单元格", Int),
        ],
    },
    Spec {
        path: "/api/v1/blindspots/cells",
        title: "盲区单元格",
        file: "blind-cells",
        items: Items::Features,
        geometry: Some(Geom::Feature),
        columns: &[
            c("rank", "排名", Int),
            c("place", "位置", Text),
            c("grid_name", "网格", Text),
            c("town", "街镇", Town),
            c("risk", "风险分", Num),
            c("never_patrolled", "从未巡查", Bool),
            c("overdue", "超期未巡", Bool),
            c("last_patrolled", "最近巡查时间", Time),
            c("projects", "在建工程数", Int),
            c("venues_near", "附近人员密集场所", Int),
            c("commercial_district", "所在商圈", Text),
            c("reasons", "原因", Reasons),
            c("cell", "H3单元格", Text),
        ],
    },
    Spec {
        path: "/api/v1/blindspots/works",
        title: "未纳管工程",
        file: "blindspot-works",
        items: Items::Key("items"),
        geometry: Some(Geom::LonLat),
        columns: &[
            c("town", "街镇", Town),
            c("code", "工程编号", Text),
            c("name", "工程名称", Text),
            c("category", "工程类别", Label(category)),
            c("funding", "投资性质", Label(funding)),
            c("status", "状态", Label(status)),
            c("kinds", "问题类型", List),
            c("reasons", "原因", Reasons),
            c("lon", "经度", Num),
            c("lat", "纬度", Num),
        ],
    },
    Spec {
        path: "/api/v1/blindspots/districts",
        title: "商圈盲区",
        file: "blindspot-districts",
        items: Items::Key("items"),
        geometry: Some(Geom::Pair("center")),
        columns: &[
            c("town", "街镇", Town),
            c("code", "商圈编号", Text),
            c("name", "商圈名称", Text),
            c("flagged", "列为盲区", Bool),
            c("one_stop_plan", "一揽子纳管计划", Bool),
            c("works", "工程数", Int),
            c("filed_in_window.social", "社会投资备案数", Int),
            c("discovered_unfiled", "巡查发现未备案", Int),
            c("cells", "单元格数", Int),
            c("patrolled_cells", "已巡查单元格", Int),
            c("patrol_coverage", "巡查覆盖率", Percent),
            c("overdue_cells", "超期未巡单元格", Int),
            c("last_patrolled", "最近巡查时间", Time),
            c("days_since_last_patrol", "距上次巡查天数", Int),
            c("reasons", "原因", Reasons),
        ],
    },
    Spec {
        path: "/api/v1/blindspots/near-venues",
        title: "人员密集场所周边工程",
        file: "works-near-venues",
        items: Items::Key("items"),
        geometry: Some(Geom::LonLat),
        columns: &[
            c("town", "街镇", Town),
            c("project_code", "工程编号", Text),
            c("project_name", "工程名称", Text),
            c("status", "状态", Label(status)),
            c("venue_name", "人员密集场所", Text),
            c("venue_kind", "场所类型", Label(venue)),
            c("distance_m", "距离（米）", Num),
            c("hot_work", "动火作业", Bool),
            c("insulation", "保温材料", Bool),
            c("inspected_recently", "近期已检查", Bool),
            c("last_inspected_at", "最近检查时间", Time),
            c("flagged", "列为盲区", Bool),
            c("reasons", "原因", Reasons),
        ],
    },
    Spec {
        path: "/api/v1/scorecard",
        title: "街镇考评表",
        file: "scorecard",
        items: Items::Key("items"),
        geometry: None,
        columns: &[
            c("town_name", "街镇", Text),
            c("works", "工程数", Int),
            c("works_government", "政府投资", Int),
            c("works_collective", "集体投资", Int),
            c("works_social", "社会投资", Int),
            c("social_share", "社会投资占比", Percent),
            c("active_works", "在建工程", Int),
            c("filing_rate", "开工备案率", Percent),
            c("notification_rate", "告知承诺率", Percent),
            c("unfiled", "未备案", Int),
            c("no_completion_filing", "未竣工备案", Int),
            c("above_limit", "限额以上未移送", Int),
            c("outside_grid", "网格外工程", Int),
            c("uninsured", "未投保", Int),
            c("hot_work_unpermitted", "动火未审批", Int),
            c("insulation_unfiled", "保温材料未备案", Int),
            c("inspections", "检查次数", Int),
            c("inspections_per_work_month", "每工程每月检查", Num),
            c("uninspected", "未检查工程", Int),
            c("near_venue_uninspected", "场所周边未检查", Int),
            c("hazards_found", "发现隐患", Int),
            c("hazards_closed", "隐患销项", Int),
            c("hazards_overdue", "隐患逾期", Int),
            c("median_days_to_close", "销项天数中位数", Num),
            c("cells", "单元格数", Int),
            c("patrolled_cells", "已巡查单元格", Int),
            c("patrol_coverage", "巡查覆盖率", Percent),
            c("overdue_cells", "超期未巡单元格", Int),
            c("blind_spots", "盲区", Int),
            c("unmanaged_districts", "未纳管商圈", Int),
        ],
    },
    Spec {
        path: "/api/v1/hazards",
        title: "隐患清单",
        file: "hazards",
        items: Items::Key("items"),
        geometry: None,
        columns: &[
            c("id", "隐患编号", Int),
            c("project_id", "工程ID", Int),
            c("kind", "隐患类别", Label(hazard_kind)),
            c("severity", "隐患等级", Label(severity)),
            c("found_at", "发现时间", Time),
            c("deadline", "整改期限", Text),
            c("status", "整改状态", Label(hazard_status)),
            c("overdue", "是否逾期", Bool),
            c("days_overdue", "逾期天数", Int),
            c("closed_at", "销项时间", Time),
            c("updated_at", "更新时间", Time),
            c("note", "隐患描述", Text),
        ],
    },
    Spec {
        path: "/api/v1/ledger",
        title: "检查台账",
        file: "ledger",
        items: Items::Key("items"),
        geometry: None,
        columns: LEDGER,
    },
    Spec {
        path: "/api/v1/projects/{id}/ledger",
        title: "工程检查台账",
        file: "project-ledger",
        items: Items::Key("items"),
        geometry: None,
        columns: LEDGER,
    },
    Spec {
        path: "/api/v1/projects",
        title: "小微工程",
        file: "works",
        items: Items::Features,
        geometry: Some(Geom::Feature),
        columns: &[
            c("town", "街镇", Town),
            c("code", "工程编号", Text),
            c("name", "工程名称", Text),
            c("category", "工程类别", Label(category)),
            c("funding", "投资性质", Label(funding)),
            c("investment_cny", "投资额（元）", Int),
            c("floor_area_m2", "建筑面积（㎡）", Num),
            c("address", "工程地址", Text),
            c("status", "状态", Label(status)),
            c("started_on", "开工日期", Text),
            c("completed_on", "竣工日期", Text),
            c("hot_work", "动火作业", Bool),
            c("insulation", "保温材料", Bool),
            c("steel_mezzanine", "钢结构夹层", Bool),
            c("insured", "已投保", Bool),
            c("above_limit", "限额以上", Bool),
        ],
    },
    Spec {
        path: "/api/v1/tracks",
        title: "巡查轨迹",
        file: "tracks",
        items: Items::Features,
        geometry: Some(Geom::Feature),
        columns: &[
            c("name", "轨迹名称", Text),
            c("officer", "巡查人员", Person),
            c("device", "设备", Text),
            c("started_at", "开始时间", Time),
            c("ended_at", "结束时间", Time),
            c("duration_s", "时长（秒）", Int),
            c("length_m", "长度（米）", Num),
            c("point_count", "轨迹点数", Int),
            c("open", "进行中", Bool),
        ],
    },
    Spec {
        path: "/api/v1/routes",
        title: "巡查路线",
        file: "routes",
        items: Items::Features,
        geometry: Some(Geom::Feature),
        columns: &[
            c("id", "路线编号", Int),
            c("date", "日期", Text),
            c("kind", "类型", Label(route_kind)),
            c("town", "街镇", Town),
            c("grid_code", "网格", Text),
            c("officer", "巡查人员", Person),
            c("starts_at", "出发时间", Time),
            c("distance_m", "距离（米）", Num),
            c("duration_s", "时长（秒）", Num),
            c("shift_minutes", "班次（分钟）", Num),
            c("new_cell_count", "新增覆盖单元格", Int),
            c("overdue_cells", "超期单元格", Int),
            c("fits_shift", "班次内完成", Bool),
            c("created_by", "制定人", Person),
            c("created_at", "制定时间", Time),
        ],
    },
];

/// The ledger's columns, as the towns' ledgers head them (the ledger's own
/// CSV did so before the exports).
const LEDGER: &[Col] = &[
    c("at", "时间", Time),
    c("entry", "记录类型", Label(entry)),
    c("by", "记录人", Person),
    c("town", "街镇", Town),
    c("project_id", "工程ID", Int),
    c("project_code", "工程编号", Text),
    c("project_name", "工程名称", Text),
    c("inspection_id", "检查ID", Int),
    c("inspected_at", "检查时间", Time),
    c("inspector", "检查人", Person),
    c("hazard_id", "隐患ID", Int),
    c("kind", "隐患类别代码", Text),
    c("kind_zh", "隐患类别", Text),
    c("severity", "隐患等级", Label(severity)),
    c("deadline", "整改期限", Text),
    c("from_status", "原状态", Label(hazard_status)),
    c("to_status", "新状态", Label(hazard_status)),
    c("note", "备注", Text),
];

/// The spec of a route.
#[must_use]
pub fn spec(path: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.path == path)
}

/// The work-gap vocabulary's labels, for [`Kind::List`] of `kinds`.
#[must_use]
pub fn list_label(s: &str) -> Option<&'static str> {
    gap(s)
}
