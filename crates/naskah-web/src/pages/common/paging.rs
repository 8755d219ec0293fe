//! One page of a long list: which page the address asks for (`?halaman=`, from 1, the
//! first when missing or not a number), what the page shows ("101–200 dari 100.000")
//! and the links to the pages beside it, which keep the list's filter.

use crate::text::thousands;

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// From 0.
    pub index: i64,
    pub size: i64,
}

impl Paging {
    pub fn parse(halaman: &str, size: i64) -> Paging {
        Paging {
            index: halaman.trim().parse::<i64>().map_or(0, |n| (n - 1).clamp(0, 1_000_000)),
            size,
        }
    }

    pub fn offset(&self) -> i64 {
        self.index * self.size
    }

    /// "101–200 dari 1.234" for `shown` rows of `total`.
    pub fn shown(&self, shown: usize, total: i64) -> String {
        format!("{} dari {}", self.range(shown), thousands(total))
    }

    /// "101–200" for `shown` rows on this page, "0" for none.
    pub fn range(&self, shown: usize) -> String {
        if shown == 0 {
            return "0".into();
        }
        let first = self.offset() + 1;
        format!("{}–{}", thousands(first), thousands(first + shown as i64 - 1))
    }

    /// The links to the previous and the next page, when there are such pages; `href`
    /// gives the address of a page by its number from 1.
    pub fn links(&self, total: i64, href: impl Fn(i64) -> String) -> Vec<(String, String)> {
        let mut links = Vec::new();
        if self.index > 0 {
            links.push((href(self.index), "← Halaman sebelumnya".to_string()));
        }
        if (self.index + 1) * self.size < total {
            links.push((href(self.index + 2), "Halaman berikutnya →".to_string()));
        }
        links
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_read_leniently_and_linked_both_ways() {
        assert_eq!(Paging::parse("", 100).index, 0);
        assert_eq!(Paging::parse("abc", 100).index, 0);
        assert_eq!(Paging::parse("-4", 100).index, 0);
        let third = Paging::parse(" 3 ", 100);
        assert_eq!(third.offset(), 200);
        assert_eq!(third.shown(100, 1234), "201–300 dari 1.234");
        let links = third.links(1234, |n| format!("/x?halaman={n}"));
        assert_eq!(links[0].0, "/x?halaman=2");
        assert_eq!(links[1].0, "/x?halaman=4");
        assert_eq!(Paging::parse("13", 100).links(1234, |n| n.to_string()).len(), 1);
        assert_eq!(Paging::parse("1", 100).shown(0, 0), "0 dari 0");
    }
}
