//! The terminal timeline: one row per task, virtual time across.

use std::fmt::Write;

use asyncsim_sim::trace::{format_ns, Trace};

use super::model::{strongest_first, tick_spacing_ns, Model, FAULT_SYMBOLS};

/// The name of the fault lane (a row under the tasks' when the run had
/// faults).
pub(crate) const FAULT_LANE: &str = "faults";

/// Longest task name shown in full; longer names are cut with `~`.
const NAME_WIDTH_MAX: usize = 20;
/// The grid never gets narrower than this, whatever `width` says.
const GRID_WIDTH_MIN: usize = 10;
/// How many blocked-loop polls and marks the notes list before "… and N more".
const NOTES_MAX: usize = 12;

/// How many faults the notes list before "… and N more" (a run's faults are
/// what a reader of a failing run looks for first).
const FAULT_NOTES_MAX: usize = 40;

/// The fault lane's legend wraps at this many columns.
const LEGEND_WIDTH: usize = 80;

/// Cell symbols, weakest first: a stronger symbol wins a shared column.
const SYMBOLS: [u8; 8] = [b' ', b'.', b'|', b'=', b'#', b'x', b'!', b'*'];

fn strength(symbol: u8) -> usize {
    SYMBOLS
        .iter()
        .position(|candidate| *candidate == symbol)
        .unwrap_or(0)
}

/// The x axis: virtual time, or (for runs that took no virtual time, where
/// a time axis would be a single column) the scheduling step.
struct Grid {
    /// True when the axis counts steps rather than nanoseconds.
    steps: bool,
    columns: usize,
    /// Virtual time per column: a 1-2-5 "nice" number, so ticks land on
    /// round times.
    column_ns: u64,
    /// Columns per unit when units are few (a short step axis): each step
    /// gets up to `ZOOM_MAX` columns so the rows are readable.
    zoom: usize,
    end_ns: u64,
}

/// The most columns one step gets on a step axis.
const ZOOM_MAX: usize = 3;

impl Grid {
    fn new(steps: bool, end_ns: u64, columns_max: usize) -> Grid {
        if end_ns == 0 {
            return Grid {
                steps,
                columns: 1,
                column_ns: 1,
                zoom: 1,
                end_ns,
            };
        }
        let wanted = end_ns.div_ceil(columns_max.saturating_sub(1).max(1) as u64);
        let column_ns = nice_at_least(wanted);
        let units = (end_ns / column_ns) as usize + 1;
        let zoom = if steps && column_ns == 1 {
            (columns_max / units).clamp(1, ZOOM_MAX)
        } else {
            1
        };
        Grid {
            steps,
            columns: units * zoom,
            column_ns,
            zoom,
            end_ns,
        }
    }

    /// Column `c` covers virtual time `[c * column_ns, (c + 1) * column_ns)`.
    fn column(&self, time_ns: u64) -> usize {
        ((time_ns.min(self.end_ns) / self.column_ns) as usize * self.zoom).min(self.columns - 1)
    }

    /// A position on the axis as its label.
    fn label(&self, position: u64) -> String {
        if self.steps {
            position.to_string()
        } else {
            format_ns(position)
        }
    }

    /// Columns covered by `[start, end)`: at least the start column.
    fn span(&self, start_ns: u64, end_ns: u64) -> std::ops::RangeInclusive<usize> {
        let first = self.column(start_ns);
        let last = self.column(end_ns.saturating_sub(1).max(start_ns)) + self.zoom - 1;
        first..=last.max(first).min(self.columns - 1)
    }
}

/// The smallest 1, 2 or 5 times a power of ten that is at least `value`.
fn nice_at_least(value: u64) -> u64 {
    let mut power = 1u64;
    loop {
        for factor in [1u64, 2, 5] {
            let candidate = power.saturating_mul(factor);
            if candidate >= value {
                return candidate;
            }
        }
        match power.checked_mul(10) {
            Some(next) => power = next,
            None => return u64::MAX,
        }
    }
}

fn put(row: &mut [u8], column: usize, symbol: u8) {
    if let Some(cell) = row.get_mut(column) {
        if strength(symbol) > strength(*cell) {
            *cell = symbol;
        }
    }
}

/// The fault lane's most rows: a column holding more kinds of fault than
/// this shows the strongest and a `+` under them (the notes list them all).
const FAULT_ROWS_MAX: usize = 3;

/// The fault lane's rows: each column's kinds of fault, strongest (earlier
/// in [`FAULT_SYMBOLS`]) on top and the others stacked under it (a crash and
/// its restart at one instant show both), as many rows as the most crowded
/// column needs, at most [`FAULT_ROWS_MAX`].
fn fault_rows(columns: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut columns = columns.to_vec();
    for letters in &mut columns {
        strongest_first(letters);
    }
    let depth = columns
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .clamp(1, FAULT_ROWS_MAX);
    (0..depth)
        .map(|row| {
            columns
                .iter()
                .map(|letters| match letters.get(row) {
                    Some(_) if row + 1 == depth && letters.len() > depth => b'+',
                    Some(letter) => *letter,
                    None => b' ',
                })
                .collect()
        })
        .collect()
}

/// A lane's name cut to [`NAME_WIDTH_MAX`]: its head and a `~`; but a name
/// with a site (`task-3@src/server.rs:42`, as the tokio face names a task by its
/// spawn site) keeps its `task-3@` and the end of its site, the part that
/// tells one spawn site of a file from another: `task-3@~er.rs:42`.
fn short_name(name: &str) -> String {
    let clean: Vec<char> = name
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.len() <= NAME_WIDTH_MAX {
        return clean.into_iter().collect();
    }
    // The head up to the `@`, the `~`, and at least 8 characters of the site.
    if let Some(at) = clean.iter().position(|&c| c == '@') {
        if at + 2 + 8 <= NAME_WIDTH_MAX {
            let tail = NAME_WIDTH_MAX - (at + 2);
            let mut cut: String = clean[..=at].iter().collect();
            cut.push('~');
            cut.extend(&clean[clean.len() - tail..]);
            return cut;
        }
    }
    let mut cut: String = clean[..NAME_WIDTH_MAX - 1].iter().collect();
    cut.push('~');
    cut
}

pub(crate) fn timeline_text(trace: &Trace, width: usize) -> String {
    let model = Model::new(trace);
    let mut names: Vec<String> = model
        .lanes
        .iter()
        .map(|lane| short_name(&lane.name))
        .collect();
    if !model.faults.is_empty() {
        names.push(FAULT_LANE.to_string());
    }
    let name_width = names
        .iter()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let columns_max = width.saturating_sub(name_width + 2).max(GRID_WIDTH_MIN);
    let steps = model.end_ns == 0 && model.end_step > 0;
    // Where something happened on the x axis: its time, or its step.
    let at = |time_ns: u64, step: u64| if steps { step } else { time_ns };
    let grid = Grid::new(steps, at(model.end_ns, model.end_step), columns_max);
    let end = at(model.end_ns, model.end_step);
    let columns = grid.columns;
    let mut rows: Vec<Vec<u8>> = vec![vec![b' '; columns]; names.len()];

    for (lane, row) in model.lanes.iter().zip(rows.iter_mut()) {
        let Some(spawn_ns) = lane.spawn_ns else {
            continue;
        };
        let spawn = at(spawn_ns, lane.spawn_step);
        let lane_end = lane
            .end_ns
            .zip(lane.end_step)
            .map(|(ns, step)| at(ns, step));
        // A finished task's row stops with its last poll (or job).
        let alive = match lane_end {
            Some(lane_end) => grid.span(spawn, lane_end),
            None => grid.column(spawn)..=columns - 1,
        };
        for column in alive {
            put(row, column, b'.');
        }
        let lane_end = lane_end.unwrap_or(end);
        if lane.panicked {
            put(row, grid.column(lane_end), b'!');
        } else if lane.aborted {
            put(row, grid.column(lane_end), b'x');
        }
    }
    for poll in &model.polls {
        let row = &mut rows[poll.task.index()];
        put(row, grid.column(at(poll.start_ns, poll.step)), b'|');
        if poll.held_ns > 0 {
            for column in grid.span(poll.start_ns, poll.end_ns()) {
                put(row, column, b'#');
            }
        }
    }
    for job in &model.jobs {
        if let (Some((start_ns, _)), Some(start_step)) = (job.started, job.start_step) {
            let finish = job
                .finish_ns
                .zip(job.finish_step)
                .map_or(end, |(ns, step)| at(ns, step));
            for column in grid.span(at(start_ns, start_step), finish) {
                put(&mut rows[job.task.index()], column, b'=');
            }
        }
    }
    for mark in &model.marks {
        if let Some(task) = mark.task {
            put(
                &mut rows[task.index()],
                grid.column(at(mark.time_ns, mark.step)),
                b'*',
            );
        }
    }

    let mut stacked = false;
    let mut crowded = false;
    if !model.faults.is_empty() {
        let mut letters: Vec<Vec<u8>> = vec![Vec::new(); columns];
        for fault in &model.faults {
            if let Some(cell) = letters.get_mut(grid.column(at(fault.time_ns, fault.step))) {
                cell.push(fault.symbol().0);
            }
        }
        let lane = fault_rows(&letters);
        stacked = lane.len() > 1;
        crowded = lane.last().is_some_and(|row| row.contains(&b'+'));
        rows.truncate(model.lanes.len());
        names.resize(model.lanes.len() + lane.len(), String::new());
        rows.extend(lane);
    }

    let mut out = String::new();
    let scale = if steps {
        format!(
            "step 0 .. {} (the run took no virtual time), {}",
            model.end_step,
            match (grid.column_ns, grid.zoom) {
                (1, 1) => "one column = 1 step".to_string(),
                (1, zoom) => format!("{zoom} columns = 1 step"),
                (units, _) => format!("one column = {units} steps"),
            }
        )
    } else if model.end_ns == 0 {
        "virtual time: everything happened at 0s".to_string()
    } else {
        format!(
            "virtual time 0s .. {}, one column = {}",
            format_ns(model.end_ns),
            format_ns(grid.column_ns)
        )
    };
    let _ = writeln!(out, "{:name_width$}  {scale}", "");
    for (name, row) in names.iter().zip(&rows) {
        let cells = String::from_utf8_lossy(row);
        let _ = writeln!(
            out,
            "{}",
            format!("{name:<name_width$}  {cells}").trim_end()
        );
    }
    write_scale(&mut out, &grid, name_width);
    // Two lines: in one it was 89 columns, past a terminal's 80.
    let _ = writeln!(
        out,
        "legend: | poll  # poll blocking the loop  = pool job  . waiting\n        * mark  ! panic  x abort"
    );
    if !model.faults.is_empty() {
        let mut present: Vec<String> = FAULT_SYMBOLS
            .iter()
            .filter(|(letter, _)| model.faults.iter().any(|fault| fault.symbol().0 == *letter))
            .map(|(letter, word)| format!("{} {word}", *letter as char))
            .collect();
        if stacked {
            present.push("(faults sharing a column stack, the first listed on top)".into());
        }
        if crowded {
            present.push("+ more faults (listed below)".into());
        }
        write_wrapped(&mut out, "fault lane: ", &present);
    }
    write_notes(&mut out, trace, &model);
    out
}

/// Writes `items` after `head`, two spaces apart, wrapped at
/// [`LEGEND_WIDTH`] columns (an item is never split; the lines after the
/// first are indented).
fn write_wrapped(out: &mut String, head: &str, items: &[String]) {
    let mut line = head.to_string();
    let mut empty = true;
    for item in items {
        if !empty && line.len() + 2 + item.len() > LEGEND_WIDTH {
            let _ = writeln!(out, "{line}");
            line = " ".repeat(head.len());
            empty = true;
        }
        if !empty {
            line.push_str("  ");
        }
        line.push_str(item);
        empty = false;
    }
    let _ = writeln!(out, "{line}");
}

fn write_scale(out: &mut String, grid: &Grid, indent: usize) {
    let columns = grid.columns;
    let mut ruler = vec![b'-'; columns];
    let mut labels = vec![b' '; columns];
    let spacing = tick_spacing_ns(
        grid.end_ns,
        ((grid.end_ns / grid.column_ns) as usize * grid.zoom) as f64,
        10.0,
    );
    let mut next_free = 0usize;
    let mut tick = 0u64;
    loop {
        let column = grid.column(tick);
        ruler[column] = b'+';
        let text = grid.label(tick);
        let mut start = column;
        if start + text.len() > columns {
            start = columns.saturating_sub(text.len());
        }
        if start >= next_free && start + text.len() <= columns {
            labels[start..start + text.len()].copy_from_slice(text.as_bytes());
            next_free = start + text.len() + 1;
        }
        if grid.end_ns == 0 {
            break;
        }
        match tick.checked_add(spacing) {
            Some(next) if next <= grid.end_ns => tick = next,
            _ => break,
        }
    }
    let _ = writeln!(out, "{:indent$}  {}", "", String::from_utf8_lossy(&ruler));
    let _ = writeln!(
        out,
        "{}",
        format!("{:indent$}  {}", "", String::from_utf8_lossy(&labels)).trim_end()
    );
}

fn write_notes(out: &mut String, trace: &Trace, model: &Model) {
    let blocking: Vec<_> = model.blocking_polls().collect();
    if !blocking.is_empty() {
        let _ = writeln!(out, "loop blocked:");
        for poll in blocking.iter().take(NOTES_MAX) {
            let _ = writeln!(
                out,
                "  {:>10} .. {:<10} {} held the loop {} (step {})",
                format_ns(poll.start_ns),
                format_ns(poll.end_ns()),
                trace.task_name(poll.task),
                format_ns(poll.held_ns),
                poll.step
            );
        }
        if blocking.len() > NOTES_MAX {
            let _ = writeln!(out, "  ... and {} more", blocking.len() - NOTES_MAX);
        }
    }
    if !model.marks.is_empty() {
        let _ = writeln!(out, "marks:");
        for mark in model.marks.iter().take(NOTES_MAX) {
            let task = mark.task.map_or("-", |task| trace.task_name(task));
            let _ = writeln!(
                out,
                "  {:>10}  step {:<5} {:<12} {:?}",
                format_ns(mark.time_ns),
                mark.step,
                task,
                mark.label
            );
        }
        if model.marks.len() > NOTES_MAX {
            let _ = writeln!(out, "  ... and {} more", model.marks.len() - NOTES_MAX);
        }
    }
    if !model.faults.is_empty() {
        let _ = writeln!(out, "{FAULT_LANE}:");
        for fault in model.faults.iter().take(FAULT_NOTES_MAX) {
            let task = fault.task.map_or("-", |task| trace.task_name(task));
            let _ = writeln!(
                out,
                "  {:>10}  step {:<5} {:<12} {}",
                format_ns(fault.time_ns),
                fault.step,
                task,
                fault.what
            );
        }
        if model.faults.len() > FAULT_NOTES_MAX {
            let _ = writeln!(
                out,
                "  ... and {} more",
                model.faults.len() - FAULT_NOTES_MAX
            );
        }
    }
    if trace.is_truncated() {
        let _ = writeln!(
            out,
            "note: the trace is truncated; only {} of {} events are drawn",
            trace.events().len(),
            trace.event_count()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::fault_rows;

    #[test]
    fn a_crowded_column_stacks_three_rows_with_a_plus_for_the_rest() {
        let columns = vec![
            b"R".to_vec(),
            b"DCRD".to_vec(),
            Vec::new(),
            b"BPHE".to_vec(),
        ];
        let rows: Vec<String> = fault_rows(&columns)
            .into_iter()
            .map(|row| String::from_utf8(row).unwrap())
            .collect();
        assert_eq!(rows, ["RC P", " R H", " D +"]);
        // One kind a column: one row, as before stacking.
        let rows = fault_rows(&[b"CC".to_vec(), b"R".to_vec()]);
        assert_eq!(rows, [b"CR".to_vec()]);
    }
}
