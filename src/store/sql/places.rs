//! [`PlaceStore`] on every SQL backend: the named places replaced by
//! multi-row inserts in one transaction, read by a box on plain
//! longitude/latitude columns (a few thousand rows; no spatial index needed).

use async_trait::async_trait;

use super::{Arg, Dialect, RowReader, SqlBackend, bind_list, qb};
use crate::naming::{NamedPlace, PlaceKind};
use crate::spatial::{Bbox, LonLat};
use crate::store::StoreError;
use crate::store::places::{PlaceStore, StoredPlace};

/// Rows per multi-row insert (six binds each).
const CHUNK: usize = 400;

fn place<D: Dialect>(row: &D::Row) -> Result<StoredPlace, StoreError> {
    let r = RowReader::<D>(row);
    let kind = r.text("kind")?;
    Ok(StoredPlace {
        place: NamedPlace {
            name: r.text("name")?,
            kind: PlaceKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("named_place.kind: {kind:?}")))?,
            position: LonLat::new(r.f64("lon")?, r.f64("lat")?)
                .map_err(|e| StoreError::Corrupt(format!("named_place: {e}")))?,
        },
        code: r.text("code")?,
    })
}

#[async_trait]
impl<S: SqlBackend> PlaceStore for S {
    async fn replace_places(
        &self,
        source: &str,
        places: &[StoredPlace],
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        S::Db::execute(&mut tx, &mut qb::<S::Db>("delete from named_place")).await?;
        for chunk in places.chunks(CHUNK) {
            let mut q =
                qb::<S::Db>("insert into named_place (kind, name, code, lon, lat, source) values ");
            for (i, p) in chunk.iter().enumerate() {
                q.push(if i == 0 { "(" } else { ", (" });
                bind_list(
                    &mut q,
                    [
                        Arg::text(p.place.kind.as_str()),
                        Arg::text(&p.place.name),
                        Arg::text(&p.code),
                        Arg::F64(Some(p.place.position.lon())),
                        Arg::F64(Some(p.place.position.lat())),
                        Arg::text(source),
                    ],
                );
                q.push(")");
            }
            S::Db::execute(&mut tx, &mut q).await?;
        }
        tx.commit().await?;
        Ok(places.len())
    }

    async fn places(&self, bbox: Option<&Bbox>) -> Result<Vec<StoredPlace>, StoreError> {
        let mut q = qb::<S::Db>(format!(
            "select kind, name, code, lon, lat from named_place where {}",
            S::Db::WHERE_ALL
        ));
        if let Some(b) = bbox {
            q.push(" and lon >= ");
            S::Db::bind_f64(&mut q, Some(b.min_lon()));
            q.push(" and lon <= ");
            S::Db::bind_f64(&mut q, Some(b.max_lon()));
            q.push(" and lat >= ");
            S::Db::bind_f64(&mut q, Some(b.min_lat()));
            q.push(" and lat <= ");
            S::Db::bind_f64(&mut q, Some(b.max_lat()));
        }
        q.push(" order by name, code, id");
        let mut conn = self.sql_pool().acquire().await?;
        S::Db::fetch_all(&mut conn, &mut q)
            .await?
            .iter()
            .map(place::<S::Db>)
            .collect()
    }
}
