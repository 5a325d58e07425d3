//! The closed vocabularies of the domain, each with its API name (`snake_case`)
//! and the Chinese labels found in town ledgers.

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $field:literal {
            $( $variant:ident = $api:literal [$($label:literal),*] ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The API name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $api, )+
                }
            }

            /// The first Chinese label.
            #[must_use]
            pub fn label_zh(self) -> &'static str {
                match self {
                    $( Self::$variant => [$($label),*][0], )+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::Invalid;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($api) $(|| t == $label)* {
                        return Ok(Self::$variant);
                    }
                )+
                Err($crate::domain::Invalid::new(
                    $field,
                    format!(
                        "unknown value {t:?}; expected one of {}",
                        [$($api),+].join(", ")
                    ),
                ))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Shared with the other closed vocabularies of the crate (e.g. hazard kinds).
pub(crate) use vocabulary;

vocabulary! {
    /// The category of a small work, as in the seed's scope of 小微工程.
    Category, "category" {
        NewBuild = "new_build" ["新建", "新建工程"],
        Alteration = "alteration" ["改建", "改建工程"],
        Extension = "extension" ["扩建", "扩建工程"],
        Repair = "repair" ["修缮", "非居住房屋修缮", "房屋修缮"],
        Municipal = "municipal" ["市政", "市政工程"],
        Water = "water" ["水务", "水务工程"],
        Pipeline = "pipeline" ["管线", "线管", "管线工程"],
        Greening = "greening" ["绿化", "绿化工程"],
        FitOut = "fit_out" ["装饰装修", "装修", "室内装修"],
    }
}

vocabulary! {
    /// Who pays for a work.
    Funding, "funding" {
        Government = "government" ["政府投资", "政府"],
        Collective = "collective" ["集体投资", "集体"],
        Social = "social" ["社会投资", "社会"],
    }
}

vocabulary! {
    /// The filing lifecycle of a work.
    ProjectStatus, "status" {
        Discovered = "discovered" ["巡查发现", "未备案"],
        Filed = "filed" ["开工备案", "已备案"],
        Notified = "notified" ["告知承诺"],
        InProgress = "in_progress" ["在建", "施工中"],
        Completed = "completed" ["竣工备案", "已竣工"],
    }
}

vocabulary! {
    /// The kind of a crowded venue.
    VenueKind, "kind" {
        Mall = "mall" ["商场", "商业综合体"],
        School = "school" ["学校"],
        Hospital = "hospital" ["医院"],
        Station = "station" ["车站", "地铁站", "交通枢纽"],
        Market = "market" ["市场", "菜场"],
        Hotel = "hotel" ["酒店", "宾馆"],
        Venue = "venue" ["场馆", "文体场馆"],
    }
}

vocabulary! {
    /// The kind of a town-level unit.
    TownKind, "kind" {
        Subdistrict = "subdistrict" ["街道"],
        Town = "town" ["镇"],
        DevelopmentZone = "development_zone" ["经开区", "工业区", "开发区"],
    }
}
