//! The Typst `World` of one render job: the preloaded template folder, the job's data as
//! `/data.json`, the job's few request files, the embedded fonts and a fixed date.
//! Nothing here touches the disk, the network or a package cache.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, OnceLock};

use typst::diag::{FileError, FileResult, PackageError};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use super::fonts::FONTS;
use super::{DATA_PATH, REQUEST_FILES};

/// The standard library, built once per process.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// The file ids of `/data.json` and of [`REQUEST_FILES`], interned once per process.
static DATA_ID: LazyLock<FileId> = LazyLock::new(|| project_id(DATA_PATH).expect("valid virtual path"));
static REQUEST_IDS: LazyLock<Vec<(&'static str, FileId)>> = LazyLock::new(|| {
    REQUEST_FILES
        .iter()
        .map(|path| (*path, project_id(path).expect("valid virtual path")))
        .collect()
});

/// Builds the process-wide fonts, library and fixed file ids.
pub(crate) fn warm_up() {
    LazyLock::force(&FONTS);
    LazyLock::force(&LIBRARY);
    LazyLock::force(&DATA_ID);
    LazyLock::force(&REQUEST_IDS);
}

/// Interns a path of the project root. Every call with a new path spends one of the
/// process's 2^16 file ids for good, so this is called only for the template folder at
/// load time and for the fixed paths above.
pub(crate) fn project_id(path: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(path).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// The normalised form of a virtual path (`/a/b.typ`), without interning it.
pub(crate) fn normalise(path: &str) -> Option<String> {
    VirtualPath::new(path).ok().map(|p| p.get_with_slash().to_string())
}

/// The id of a request file path, if it is one of [`REQUEST_FILES`].
pub(crate) fn request_id(normalised: &str) -> Option<FileId> {
    REQUEST_IDS.iter().find(|(path, _)| *path == normalised).map(|(_, id)| *id)
}

/// One file of the template folder, kept in memory for the life of the renderer.
pub(crate) struct TemplateFile {
    pub(crate) bytes: Bytes,
    /// Parsed on first use as a Typst source, then shared by every job.
    source: OnceLock<FileResult<Source>>,
}

impl TemplateFile {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self {
            bytes: Bytes::new(bytes),
            source: OnceLock::new(),
        }
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.source
            .get_or_init(|| {
                let text = std::str::from_utf8(self.bytes.as_slice()).map_err(|_| FileError::InvalidUtf8)?;
                // A byte-order mark would otherwise show up as text.
                let text = text.strip_prefix('\u{feff}').unwrap_or(text);
                Ok(Source::new(id, text.to_owned()))
            })
            .clone()
    }
}

/// The preloaded template folder.
pub(crate) struct Templates {
    pub(crate) files: HashMap<FileId, TemplateFile>,
    /// Normalised virtual path → id, so a job's `main` is looked up without interning it.
    pub(crate) by_path: HashMap<String, FileId>,
}

/// The world of one job. Borrowed from the renderer; lives for one compile.
pub(crate) struct JobWorld<'a> {
    pub(crate) templates: &'a Templates,
    pub(crate) main: FileId,
    pub(crate) data: Bytes,
    pub(crate) request_files: Vec<(FileId, Bytes)>,
    pub(crate) today: Datetime,
}

fn no_packages(id: FileId) -> Option<FileError> {
    match id.root() {
        VirtualRoot::Project => None,
        VirtualRoot::Package(spec) => Some(FileError::Package(PackageError::Other(Some(
            format!("paket {spec} tidak tersedia: templat naskah hanya boleh memakai berkas dari letter_templates/").into(),
        )))),
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(id.vpath().get_with_slash()))
}

impl World for JobWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if let Some(err) = no_packages(id) {
            return Err(err);
        }
        // The job's data and request files are never evaluated as Typst code.
        if id == *DATA_ID || self.request_files.iter().any(|(rid, _)| *rid == id) {
            return Err(FileError::NotSource);
        }
        match self.templates.files.get(&id) {
            Some(file) => file.source(id),
            None => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some(err) = no_packages(id) {
            return Err(err);
        }
        if id == *DATA_ID {
            return Ok(self.data.clone());
        }
        // A request file shadows a template file of the same path for this job.
        if let Some((_, bytes)) = self.request_files.iter().find(|(rid, _)| *rid == id) {
            return Ok(bytes.clone());
        }
        match self.templates.files.get(&id) {
            Some(file) => Ok(file.bytes.clone()),
            None => Err(not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
