//! A node's disk's names: directories (numbered, so a rename moves what is
//! below at once), the entries they name, and the changes to them not yet
//! synced (`MetaOp`), with paths in words for a crash's report.

use super::*;

/// A directory's number; [`ROOT`] is `/`. Directories are numbered, not
/// named, so that a directory's rename moves everything below it at once,
/// in what reads see and in what a crash keeps alike.
pub(super) type DirId = usize;
pub(super) const ROOT: DirId = 0;

/// What a name points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Entry {
    File(usize),
    Dir(DirId),
}

/// Names in directories. Each file and directory has one name (the disk
/// has no links).
#[derive(Clone, Default)]
pub(super) struct Namespace {
    /// Each directory's entries by name.
    pub(super) dirs: BTreeMap<DirId, BTreeMap<OsString, Entry>>,
    /// Where each entry is named: `dirs` inverted.
    pub(super) places: BTreeMap<Entry, (DirId, OsString)>,
    /// Each directory's times, once it has any but `/`'s at the run's start
    /// (kept when it is removed: a handle still open reads them).
    pub(super) times: BTreeMap<DirId, Times>,
}

impl Namespace {
    /// Directory `dir`'s times.
    pub(super) fn dir_times(&self, dir: DirId) -> Times {
        self.times.get(&dir).copied().unwrap_or_default()
    }

    /// An entry of `dir` made, renamed or removed at `at`.
    fn touch(&mut self, dir: DirId, at: u64) {
        self.times.entry(dir).or_default().modify(at);
    }

    pub(super) fn get(&self, dir: DirId, name: &OsStr) -> Option<Entry> {
        self.dirs.get(&dir)?.get(name).copied()
    }

    pub(super) fn is_empty(&self, dir: DirId) -> bool {
        self.dirs.get(&dir).is_none_or(BTreeMap::is_empty)
    }

    /// The entries of `dir`, by name.
    pub(super) fn children(&self, dir: DirId) -> Vec<(OsString, Entry)> {
        self.dirs
            .get(&dir)
            .into_iter()
            .flatten()
            .map(|(name, entry)| (name.clone(), *entry))
            .collect()
    }

    /// Names `entry` `dir`/`name`: it leaves its old name, and what had
    /// this name is gone (a rename over it).
    pub(super) fn link(&mut self, dir: DirId, name: OsString, entry: Entry) {
        if let Some((old_dir, old_name)) = self.places.remove(&entry) {
            if let Some(names) = self.dirs.get_mut(&old_dir) {
                names.remove(&old_name);
            }
        }
        let replaced = self
            .dirs
            .entry(dir)
            .or_default()
            .insert(name.clone(), entry);
        if let Some(replaced) = replaced {
            self.forget(replaced);
        }
        self.places.insert(entry, (dir, name));
    }

    /// Removes the name `dir`/`name`.
    pub(super) fn unlink(&mut self, dir: DirId, name: &OsStr) -> Option<Entry> {
        let entry = self.dirs.get_mut(&dir)?.remove(name)?;
        self.forget(entry);
        Some(entry)
    }

    pub(super) fn forget(&mut self, entry: Entry) {
        self.places.remove(&entry);
        if let Entry::Dir(dir) = entry {
            if self.is_empty(dir) {
                self.dirs.remove(&dir);
            }
        }
    }

    /// True when `dir` is `ancestor` or below it.
    pub(super) fn is_within(&self, mut dir: DirId, ancestor: DirId) -> bool {
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if dir == ancestor {
                return true;
            }
            match self.places.get(&Entry::Dir(dir)) {
                Some((parent, _)) => dir = *parent,
                None => return false,
            }
        }
        false
    }
}

/// One change of a namespace, made durable by a sync (or kept by a crash
/// as part of a drawn prefix).
pub(super) enum MetaOp {
    /// A new file or directory, `entry`, named `dir`/`name` at `at`.
    Create {
        dir: DirId,
        name: OsString,
        entry: Entry,
        at: u64,
    },
    /// `entry` renamed from `from` to `to` (replacing what was there).
    Rename {
        from: (DirId, OsString),
        to: (DirId, OsString),
        entry: Entry,
        at: u64,
    },
    /// The name `dir`/`name` of `entry` (a file or an empty directory)
    /// removed.
    Remove {
        dir: DirId,
        name: OsString,
        entry: Entry,
        at: u64,
    },
    /// `set_times` on directory `dir` (opened as a `File`).
    SetTimes { dir: DirId, set: SetTimes },
}

impl MetaOp {
    /// True when the change is an entry of directory `dir`.
    pub(super) fn touches_dir(&self, dir: DirId) -> bool {
        match self {
            MetaOp::Create { dir: parent, .. } | MetaOp::Remove { dir: parent, .. } => {
                *parent == dir
            }
            MetaOp::Rename { from, to, .. } => from.0 == dir || to.0 == dir,
            MetaOp::SetTimes { dir: set, .. } => *set == dir,
        }
    }

    /// The directory an entry is made in (which must be durable first).
    pub(super) fn target_dir(&self) -> Option<DirId> {
        match self {
            MetaOp::Create { dir, .. } | MetaOp::SetTimes { dir, .. } => Some(*dir),
            MetaOp::Rename { to, .. } => Some(to.0),
            MetaOp::Remove { .. } => None,
        }
    }

    /// The entry this change gives a name.
    pub(super) fn names(&self) -> Option<Entry> {
        match self {
            MetaOp::Create { entry, .. } | MetaOp::Rename { entry, .. } => Some(*entry),
            MetaOp::Remove { .. } | MetaOp::SetTimes { .. } => None,
        }
    }

    /// Makes the change in `namespace`, and in its directories' times (the
    /// directory an entry is made, renamed or removed in is modified).
    pub(super) fn apply(&self, namespace: &mut Namespace) {
        match self {
            MetaOp::Create {
                dir,
                name,
                entry,
                at,
            } => {
                namespace.link(*dir, name.clone(), *entry);
                if let Entry::Dir(made) = entry {
                    namespace.times.insert(*made, Times::born(*at));
                }
                namespace.touch(*dir, *at);
            }
            MetaOp::Rename {
                from,
                to: (dir, name),
                entry,
                at,
            } => {
                namespace.link(*dir, name.clone(), *entry);
                namespace.touch(from.0, *at);
                namespace.touch(*dir, *at);
            }
            MetaOp::Remove {
                dir,
                name,
                entry,
                at,
            } => {
                if namespace.get(*dir, name) == Some(*entry) {
                    namespace.unlink(*dir, name);
                    namespace.touch(*dir, *at);
                }
            }
            MetaOp::SetTimes { dir, set } => namespace.times.entry(*dir).or_default().set(set),
        }
    }
}

impl Namespace {
    /// The path of directory `dir` ("" for `/`), or `None` when it has no
    /// name any more.
    pub(super) fn dir_path(&self, dir: DirId) -> Option<String> {
        let mut names = Vec::new();
        let mut at = dir;
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if at == ROOT {
                names.reverse();
                return Some(names.concat());
            }
            let (parent, name) = self.places.get(&Entry::Dir(at))?;
            names.push(format!("/{}", name.to_string_lossy()));
            at = *parent;
        }
        None
    }

    /// `dir`/`name` in words (an unnamed directory as `?`).
    pub(super) fn path_in(&self, dir: DirId, name: &OsStr) -> String {
        let dir = self.dir_path(dir).unwrap_or_else(|| "?".to_string());
        format!("{dir}/{}", name.to_string_lossy())
    }

    /// File `number`'s path, or "file #N" when it has no name.
    pub(super) fn file_path(&self, number: usize) -> String {
        match self.places.get(&Entry::File(number)) {
            Some((dir, name)) => self.path_in(*dir, name),
            None => format!("file #{number}"),
        }
    }
}

impl MetaOp {
    /// The change in words, with paths as `names` has them.
    pub(super) fn describe(&self, names: &Namespace) -> String {
        match self {
            MetaOp::Create {
                dir,
                name,
                entry: Entry::File(_),
                ..
            } => format!("create {}", names.path_in(*dir, name)),
            MetaOp::Create {
                dir,
                name,
                entry: Entry::Dir(_),
                ..
            } => format!("create directory {}", names.path_in(*dir, name)),
            MetaOp::Rename { from, to, .. } => format!(
                "rename {} to {}",
                names.path_in(from.0, &from.1),
                names.path_in(to.0, &to.1)
            ),
            MetaOp::Remove { dir, name, .. } => format!("remove {}", names.path_in(*dir, name)),
            MetaOp::SetTimes { dir, .. } => format!(
                "set the times of {}",
                names.dir_path(*dir).unwrap_or_else(|| "?".to_string())
            ),
        }
    }
}
