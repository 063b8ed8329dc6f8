//! A managed data-service instance, whatever its product. The product owns `doc`,
//! its own shape; the fields beside it are what every product shares and what stores index.

use serde::{Deserialize, Serialize};

use crate::document::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Product {
    /// Alibaba EMR Serverless StarRocks.
    StarRocks,
    /// Alibaba OpenSearch Havenask (searchengine 2021-10-25).
    Havenask,
    /// Alibaba Openanalytics Spark/Presto (2018-06-19).
    Openanalytics,
    /// Huawei TaurusDB (GaussDB for MySQL), the parent of HTAP StarRocks.
    TaurusDb,
    /// Huawei TaurusDB HTAP StarRocks.
    HtapStarRocks,
    /// Huawei DMS for RocketMQ.
    RocketMq,
}

impl Product {
    pub const ALL: &'static [Product] = &[
        Product::StarRocks,
        Product::Havenask,
        Product::Openanalytics,
    ];

    /// The products that find an instance by its exact name (to keep names unique): a
    /// store indexes names for these only. Elsewhere a name is a random key, and an index
    /// of them costs a page written per create and is never read.
    pub const LOOKED_UP_BY_NAME: &'static [Product] = &[Product::Openanalytics, Product::RocketMq];

    pub fn as_str(self) -> &'static str {
        match self {
            Product::StarRocks => "starrocks",
            Product::Havenask => "havenask",
            Product::Openanalytics => "openanalytics",
            Product::TaurusDb => "taurusdb",
            Product::HtapStarRocks => "htap-starrocks",
            Product::RocketMq => "rocketmq",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starrocks" => Some(Product::StarRocks),
            "havenask" => Some(Product::Havenask),
            "openanalytics" => Some(Product::Openanalytics),
            "taurusdb" => Some(Product::TaurusDb),
            "htap-starrocks" => Some(Product::HtapStarRocks),
            "rocketmq" => Some(Product::RocketMq),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub account_id: String,
    pub product: Product,
    pub region: String,
    pub name: String,
    /// The product's own status string, as clients poll for it.
    pub status: String,
    pub resource_group_id: String,
    pub tags: Vec<Tag>,
    /// Product-specific state (node groups, network, billing, ...), as JSON text.
    pub doc: Document,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Released: kept for the operation history, invisible to reads.
    pub deleted: bool,
    /// Optimistic-concurrency counter, bumped by every write.
    pub version: i64,
}

impl Instance {
    /// Replaces the tags with the same key and appends the new ones.
    pub fn put_tags(&mut self, tags: impl IntoIterator<Item = Tag>) {
        for tag in tags {
            match self.tags.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => self.tags.push(tag),
            }
        }
    }

    pub fn has_tags(&self, wanted: &[Tag]) -> bool {
        wanted.iter().all(|w| {
            self.tags
                .iter()
                .any(|t| t.key == w.key && (w.value.is_empty() || t.value == w.value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn put_tags_overwrites_same_key() {
        let mut i = Instance {
            id: "c-1".into(),
            account_id: "1".into(),
            product: Product::StarRocks,
            region: "cn-hangzhou".into(),
            name: "n".into(),
            status: "running".into(),
            resource_group_id: String::new(),
            tags: vec![tag("a", "1")],
            doc: Document::null(),
            created_ms: 0,
            updated_ms: 0,
            deleted: false,
            version: 0,
        };
        i.put_tags([tag("a", "2"), tag("b", "3")]);
        assert_eq!(i.tags, vec![tag("a", "2"), tag("b", "3")]);
        assert!(i.has_tags(&[tag("b", "3")]));
        assert!(i.has_tags(&[tag("a", "")]));
        assert!(!i.has_tags(&[tag("a", "1")]));
    }

    #[test]
    fn product_names_round_trip() {
        for &p in Product::ALL {
            assert_eq!(Product::parse(p.as_str()), Some(p));
        }
    }
}
