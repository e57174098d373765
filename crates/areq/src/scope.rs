//! Which links a recursive crawl follows: [`Scope`].
//!
//! The seed follows nothing (it fetches the input URLs only); its "next steps" make it
//! recursive, and a recursive crawler needs a fence: `--same-host` (the hosts of the input
//! URLs), `--allow-domain` (a domain and its subdomains), `--exclude REGEX`. Only `http` and
//! `https` URLs are ever in scope.
//!
//! # Examples
//!
//! ```
//! use areq::scope::Scope;
//! use url::Url;
//!
//! let seeds = [Url::parse("http://example.com/").unwrap()];
//! let scope = Scope::builder()
//!     .same_host(&seeds)
//!     .allow_domain("example.org")
//!     .exclude(r"\.pdf$")
//!     .unwrap()
//!     .build();
//! let ok = |s: &str| scope.allows(&Url::parse(s).unwrap());
//! assert!(ok("http://example.com/a"));
//! assert!(ok("https://docs.example.org/b"));
//! assert!(!ok("http://example.com/paper.pdf"));
//! assert!(!ok("http://elsewhere.net/"));
//! assert!(!ok("ftp://example.com/file"));
//! ```

use std::collections::HashSet;

use regex::RegexSet;
use url::Url;

/// The fence of a recursive crawl. See the [module docs](self).
///
/// # Examples
///
/// ```
/// let everything = areq::scope::Scope::default();
/// assert!(everything.allows(&url::Url::parse("https://anywhere.example/").unwrap()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Hosts allowed by `--same-host` (empty: the flag was not given).
    hosts: HashSet<String>,
    /// Domains allowed with their subdomains, lower case.
    domains: Vec<String>,
    exclude: Option<RegexSet>,
}

/// Builds a [`Scope`].
///
/// # Examples
///
/// ```
/// let scope = areq::scope::Scope::builder().allow_domain("Example.COM").build();
/// assert!(scope.allows(&url::Url::parse("http://www.example.com/").unwrap()));
/// ```
#[derive(Debug, Default)]
pub struct ScopeBuilder {
    scope: Scope,
}

impl Scope {
    /// A builder for a scope that allows everything until restricted.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = areq::scope::Scope::builder().build();
    /// assert!(scope.allows(&url::Url::parse("http://a/").unwrap()));
    /// ```
    pub fn builder() -> ScopeBuilder {
        ScopeBuilder::default()
    }

    /// Whether the crawl may fetch `url`.
    ///
    /// A URL must be http(s); it must not match an `--exclude` pattern; and if `--same-host`
    /// or `--allow-domain` was given, its host must be one of the input URLs' hosts or within
    /// one of the allowed domains.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = areq::scope::Scope::default();
    /// assert!(!scope.allows(&url::Url::parse("mailto:me@example.com").unwrap()));
    /// ```
    pub fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        if let Some(exclude) = &self.exclude
            && exclude.is_match(url.as_str())
        {
            return false;
        }
        if self.hosts.is_empty() && self.domains.is_empty() {
            return true;
        }
        let host = host.to_ascii_lowercase();
        self.hosts.contains(&host)
            || self.domains.iter().any(|d| {
                host == *d
                    || (host.len() > d.len()
                        && host.ends_with(d.as_str())
                        && host.as_bytes()[host.len() - d.len() - 1] == b'.')
            })
    }
}

impl ScopeBuilder {
    /// Restricts the crawl to the hosts of `seeds` (plus any allowed domains).
    ///
    /// # Examples
    ///
    /// ```
    /// let seeds = [url::Url::parse("http://a.example/").unwrap()];
    /// let scope = areq::scope::Scope::builder().same_host(&seeds).build();
    /// assert!(!scope.allows(&url::Url::parse("http://b.example/").unwrap()));
    /// ```
    pub fn same_host(mut self, seeds: &[Url]) -> ScopeBuilder {
        self.scope.hosts.extend(
            seeds
                .iter()
                .filter_map(|u| u.host_str())
                .map(str::to_ascii_lowercase),
        );
        self
    }

    /// Allows `domain` and its subdomains.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = areq::scope::Scope::builder().allow_domain("example.com").build();
    /// assert!(!scope.allows(&url::Url::parse("http://notexample.com/").unwrap()));
    /// ```
    pub fn allow_domain(mut self, domain: &str) -> ScopeBuilder {
        let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
        if !domain.is_empty() {
            self.scope.domains.push(domain);
        }
        self
    }

    /// Excludes every URL matching `pattern` (a [`regex`] pattern searched anywhere in the
    /// URL); may be given several times.
    ///
    /// # Errors
    ///
    /// When the pattern does not compile; the error names it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(areq::scope::Scope::builder().exclude("(").is_err());
    /// ```
    pub fn exclude(mut self, pattern: &str) -> Result<ScopeBuilder, regex::Error> {
        let mut patterns: Vec<String> = self
            .scope
            .exclude
            .take()
            .map(|set| set.patterns().to_vec())
            .unwrap_or_default();
        patterns.push(pattern.to_owned());
        self.scope.exclude = Some(RegexSet::new(&patterns)?);
        Ok(self)
    }

    /// The scope.
    ///
    /// # Examples
    ///
    /// ```
    /// let scope = areq::scope::Scope::builder().build();
    /// # let _ = scope;
    /// ```
    pub fn build(self) -> Scope {
        self.scope
    }
}
