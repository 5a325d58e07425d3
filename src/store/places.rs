//! Named places (bus stops, 公交站): reference data that names cells, route
//! stops and blind spots for people and labels the desk map at street zoom.
//! Replaced as a whole, like the road network.

use async_trait::async_trait;

use super::StoreError;
use crate::naming::NamedPlace;
use crate::spatial::Bbox;

/// A named place as stored, with the source's own code.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPlace {
    pub place: NamedPlace,
    pub code: String,
}

#[async_trait]
pub trait PlaceStore: Send + Sync {
    /// Replaces every named place with `places` in one transaction; how
    /// many are stored.
    async fn replace_places(
        &self,
        source: &str,
        places: &[StoredPlace],
    ) -> Result<usize, StoreError>;

    /// The named places, in a box or all, by name then code.
    async fn places(&self, bbox: Option<&Bbox>) -> Result<Vec<StoredPlace>, StoreError>;
}
