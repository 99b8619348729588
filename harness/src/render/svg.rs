//! A self-contained SVG picture of a run (no fonts, scripts or images
//! fetched from anywhere), and an HTML page around it.

use std::fmt::Write;

use asyncsim_sim::trace::{format_ns, Trace};

use super::model::{strongest_first, tick_spacing_ns, FaultPoint, Model, PollEnd};
use super::text::FAULT_LANE;

const WIDTH: f64 = 1100.0;
const LABEL_WIDTH: f64 = 160.0;
const RIGHT_PAD: f64 = 30.0;
const TOP: f64 = 46.0;
const LANE_HEIGHT: f64 = 28.0;
const BAR_HEIGHT: f64 = 14.0;
const LEGEND_HEIGHT: f64 = 44.0;
/// Zero-length polls are drawn this wide, so they can be seen and hovered.
const POLL_WIDTH_MIN: f64 = 3.0;
/// At most this many events are listed in the HTML page's event table.
const HTML_EVENTS_MAX: usize = 5000;

const COLOR_POLL: &str = "#3b7dd8";
const COLOR_BLOCKING: &str = "#e8590c";
const COLOR_POOL: &str = "#2f9e44";
const COLOR_MARK: &str = "#ae3ec9";
const COLOR_WAKE: &str = "#868e96";
const COLOR_PANIC: &str = "#c92a2a";
const COLOR_FAULT: &str = "#e03131";

/// Escapes text for XML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The x axis: virtual time, or the step for runs that took no virtual
/// time (where a time axis would stack everything at 0s).
struct Layout {
    steps: bool,
    /// The last position on the axis (nanoseconds or steps).
    end: u64,
    plot_width: f64,
}

impl Layout {
    fn new(model: &Model) -> Layout {
        let steps = model.end_ns == 0 && model.end_step > 0;
        Layout {
            steps,
            end: if steps { model.end_step } else { model.end_ns },
            plot_width: WIDTH - LABEL_WIDTH - RIGHT_PAD,
        }
    }

    /// Where something at `time_ns` and `step` is drawn.
    fn x(&self, time_ns: u64, step: u64) -> f64 {
        if self.steps {
            // One slot per step, the last one included.
            let slot = self.plot_width / (self.end + 1) as f64;
            return LABEL_WIDTH + step as f64 * slot;
        }
        if self.end == 0 {
            return LABEL_WIDTH;
        }
        LABEL_WIDTH + time_ns as f64 / self.end as f64 * self.plot_width
    }

    /// The width of a poll that held the loop `held_ns` (or, on a step
    /// axis, most of its step's slot).
    fn poll_width(&self, held_ns: u64) -> f64 {
        let width = if self.steps {
            self.plot_width / (self.end + 1) as f64 * 0.8
        } else if self.end == 0 {
            0.0
        } else {
            held_ns as f64 / self.end as f64 * self.plot_width
        };
        width.max(POLL_WIDTH_MIN)
    }

    /// An axis position as its label.
    fn label(&self, position: u64) -> String {
        if self.steps {
            format!("step {position}")
        } else {
            format_ns(position)
        }
    }

    fn lane_top(lane: usize) -> f64 {
        TOP + lane as f64 * LANE_HEIGHT
    }

    fn lane_middle(lane: usize) -> f64 {
        Self::lane_top(lane) + LANE_HEIGHT / 2.0
    }
}

/// `<title>` gives hover text in browsers; `data-info` feeds the HTML panel.
fn hover(text: &str) -> (String, String) {
    let text = escape(text);
    (
        format!(" data-info=\"{text}\""),
        format!("<title>{text}</title>"),
    )
}

pub(crate) fn svg(trace: &Trace) -> String {
    let model = Model::new(trace);
    let layout = Layout::new(&model);
    let lanes = model.lanes.len();
    // The fault lane, under the tasks', when the run had faults.
    let drawn_lanes = lanes + usize::from(!model.faults.is_empty());
    let height = TOP + drawn_lanes as f64 * LANE_HEIGHT + LEGEND_HEIGHT;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"monospace\" font-size=\"12\" class=\"asyncsim-timeline\">"
    );
    let _ = writeln!(
        out,
        "<title>asyncsim run: {} tasks, {} events, 0s .. {} virtual time</title>",
        lanes,
        trace.events().len(),
        format_ns(model.end_ns)
    );
    let _ = writeln!(
        out,
        "<defs><marker id=\"wake-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{COLOR_WAKE}\"/></marker></defs>"
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    write_axis(&mut out, &layout, drawn_lanes);

    for (index, lane) in model.lanes.iter().enumerate() {
        let top = Layout::lane_top(index);
        let middle = Layout::lane_middle(index);
        let fill = if index % 2 == 0 { "#f8f9fa" } else { "#ffffff" };
        let kind = if lane.blocking { "pool job" } else { "task" };
        let _ = writeln!(
            out,
            "<g class=\"lane\" data-task=\"{}\" data-name=\"{}\">",
            lane.task.0,
            escape(&lane.name)
        );
        let _ = writeln!(
            out,
            "<rect x=\"0\" y=\"{top}\" width=\"{WIDTH}\" height=\"{LANE_HEIGHT}\" fill=\"{fill}\"/>"
        );
        let (info, title) = hover(&format!("{kind} {} ({})", lane.name, lane.task));
        let _ = writeln!(
            out,
            "<text x=\"8\" y=\"{:.1}\" fill=\"#212529\"{info}>{}{title}</text>",
            middle + 4.0,
            escape(&lane.name)
        );
        if let Some(spawn_ns) = lane.spawn_ns {
            let end = lane.end_ns.unwrap_or(model.end_ns);
            let end_step = lane.end_step.unwrap_or(model.end_step);
            let _ = writeln!(
                out,
                "<line x1=\"{:.2}\" y1=\"{middle}\" x2=\"{:.2}\" y2=\"{middle}\" stroke=\"#adb5bd\" stroke-width=\"1\" stroke-dasharray=\"2 2\"/>",
                layout.x(spawn_ns, lane.spawn_step),
                layout.x(end, end_step)
            );
        }
        // Pool jobs of this lane.
        for job in model.jobs.iter().filter(|job| job.task == lane.task) {
            let Some((start_ns, worker)) = job.started else {
                continue;
            };
            let finish_ns = job.finish_ns.unwrap_or(model.end_ns);
            let x = layout.x(start_ns, job.start_step.unwrap_or(model.end_step));
            let width = (layout.x(finish_ns, job.finish_step.unwrap_or(model.end_step)) - x)
                .max(POLL_WIDTH_MIN);
            let (info, title) = hover(&format!(
                "pool job {} of {} on worker {worker}: {} .. {} (ran {}, queued at {})",
                job.job,
                lane.name,
                format_ns(start_ns),
                format_ns(finish_ns),
                format_ns(finish_ns.saturating_sub(start_ns)),
                format_ns(job.queued_ns)
            ));
            let _ = writeln!(
                out,
                "<rect class=\"job\" x=\"{x:.2}\" y=\"{:.1}\" width=\"{width:.2}\" height=\"{BAR_HEIGHT}\" fill=\"{COLOR_POOL}\"{info}>{title}</rect>",
                middle - BAR_HEIGHT / 2.0
            );
        }
        // Polls of this lane.
        for poll in model.polls.iter().filter(|poll| poll.task == lane.task) {
            let x = layout.x(poll.start_ns, poll.step);
            let width = layout.poll_width(poll.held_ns);
            let blocking = poll.held_ns > 0;
            let outcome = match poll.end {
                PollEnd::Pending(on) => format!("pending on {}", trace.describe_wait(on)),
                PollEnd::Complete => "complete".to_string(),
                PollEnd::Panic => "panicked".to_string(),
                PollEnd::Abort => "aborted".to_string(),
                PollEnd::Unknown => "outcome not recorded".to_string(),
            };
            let text = if blocking {
                format!(
                    "{} poll at step {}: BLOCKED THE LOOP {} ({} .. {}); {outcome}",
                    lane.name,
                    poll.step,
                    format_ns(poll.held_ns),
                    format_ns(poll.start_ns),
                    format_ns(poll.end_ns())
                )
            } else {
                format!(
                    "{} poll at step {}, {}; {outcome}",
                    lane.name,
                    poll.step,
                    format_ns(poll.start_ns)
                )
            };
            let (info, title) = hover(&text);
            let (class, color, stroke) = if blocking {
                (
                    "poll blocking",
                    COLOR_BLOCKING,
                    " stroke=\"#862e00\" stroke-width=\"1\"",
                )
            } else {
                ("poll", COLOR_POLL, "")
            };
            let _ = writeln!(
                out,
                "<rect class=\"{class}\" x=\"{x:.2}\" y=\"{:.1}\" width=\"{width:.2}\" height=\"{BAR_HEIGHT}\" fill=\"{color}\"{stroke}{info}>{title}</rect>",
                middle - BAR_HEIGHT / 2.0
            );
        }
        if lane.panicked || lane.aborted {
            let end = lane.end_ns.unwrap_or(model.end_ns);
            let end_step = lane.end_step.unwrap_or(model.end_step);
            let what = if lane.panicked { "panicked" } else { "aborted" };
            let (info, title) = hover(&format!("{} {what} at {}", lane.name, format_ns(end)));
            let _ = writeln!(
                out,
                "<text class=\"outcome\" x=\"{:.2}\" y=\"{:.1}\" fill=\"{COLOR_PANIC}\" font-weight=\"bold\"{info}>{}{title}</text>",
                layout.x(end, end_step) + layout.poll_width(0) + 2.0,
                middle + 4.0,
                if lane.panicked { "!" } else { "x" }
            );
        }
        for mark in model
            .marks
            .iter()
            .filter(|mark| mark.task == Some(lane.task))
        {
            let x = layout.x(mark.time_ns, mark.step);
            let y = top + 2.0;
            let (info, title) = hover(&format!(
                "mark {:?} by {} at {} (step {})",
                mark.label,
                lane.name,
                format_ns(mark.time_ns),
                mark.step
            ));
            let _ = writeln!(
                out,
                "<path class=\"mark\" d=\"M {:.2} {y:.1} l 4 0 l -4 6 l -4 -6 z\" fill=\"{COLOR_MARK}\"{info}>{title}</path>",
                x
            );
        }
        let _ = writeln!(out, "</g>");
    }

    if !model.faults.is_empty() {
        write_fault_lane(&mut out, trace, &model, &layout);
    }

    let _ = writeln!(out, "<g class=\"wakes\">");
    for wake in &model.wakes {
        let Some(next) = wake.next_poll else {
            continue;
        };
        let target = &model.polls[next];
        let x2 = layout.x(target.start_ns, target.step);
        let y2 = Layout::lane_middle(target.task.index());
        match wake.by {
            Some(by) if by == wake.task => {
                // A task waking itself (a yield): a small arc over its lane.
                let x1 = layout.x(wake.time_ns, wake.step);
                let y = y2 - BAR_HEIGHT / 2.0;
                let (info, title) = hover(&format!(
                    "{} woke itself at {} (step {}); next poll at step {}",
                    trace.task_name(by),
                    format_ns(wake.time_ns),
                    wake.step,
                    target.step
                ));
                let _ = writeln!(
                    out,
                    "<path class=\"wake self\" d=\"M {x1:.2} {y:.1} Q {:.2} {:.1} {x2:.2} {y:.1}\" fill=\"none\" stroke=\"{COLOR_WAKE}\" stroke-width=\"1.2\" marker-end=\"url(#wake-arrow)\"{info}>{title}</path>",
                    (x1 + x2) / 2.0,
                    y - 12.0
                );
            }
            Some(by) => {
                let x1 = layout.x(wake.time_ns, wake.step);
                let y1 = Layout::lane_middle(by.index());
                let (y1, y2) = if y2 > y1 {
                    (y1 + BAR_HEIGHT / 2.0, y2 - BAR_HEIGHT / 2.0)
                } else if y2 < y1 {
                    (y1 - BAR_HEIGHT / 2.0, y2 + BAR_HEIGHT / 2.0)
                } else {
                    (y1, y2)
                };
                let (info, title) = hover(&format!(
                    "{} woke {} at {} (step {}); next poll at step {}",
                    trace.task_name(by),
                    trace.task_name(wake.task),
                    format_ns(wake.time_ns),
                    wake.step,
                    target.step
                ));
                let _ = writeln!(
                    out,
                    "<line class=\"wake\" x1=\"{x1:.2}\" y1=\"{y1:.1}\" x2=\"{x2:.2}\" y2=\"{y2:.1}\" stroke=\"{COLOR_WAKE}\" stroke-width=\"1.2\" marker-end=\"url(#wake-arrow)\"{info}>{title}</line>"
                );
            }
            None => {
                let x1 = layout.x(wake.time_ns, wake.step);
                let top = Layout::lane_top(target.task.index()) + 1.0;
                let by = trace
                    .arrival_wake_words(wake.event)
                    .unwrap_or_else(|| "woken by the engine (timer or pool)".to_string());
                let (info, title) = hover(&format!(
                    "{} {by} at {} (step {}); next poll at step {}",
                    trace.task_name(wake.task),
                    format_ns(wake.time_ns),
                    wake.step,
                    target.step
                ));
                let _ = writeln!(
                    out,
                    "<line class=\"wake engine\" x1=\"{x1:.2}\" y1=\"{top:.1}\" x2=\"{x2:.2}\" y2=\"{:.1}\" stroke=\"{COLOR_WAKE}\" stroke-width=\"1.2\" marker-end=\"url(#wake-arrow)\"{info}>{title}</line>",
                    y2 - BAR_HEIGHT / 2.0
                );
            }
        }
    }
    let _ = writeln!(out, "</g>");
    write_legend(&mut out, height, !model.faults.is_empty());
    out.push_str("</svg>\n");
    out
}

/// The fault lane: each fault a red tick with its letter, its words on
/// hover.
fn write_fault_lane(out: &mut String, trace: &Trace, model: &Model, layout: &Layout) {
    let index = model.lanes.len();
    let top = Layout::lane_top(index);
    let middle = Layout::lane_middle(index);
    let _ = writeln!(out, "<g class=\"lane faults\" data-name=\"{FAULT_LANE}\">");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"{top}\" width=\"{WIDTH}\" height=\"{LANE_HEIGHT}\" fill=\"#fff5f5\"/>"
    );
    let (info, title) = hover(&format!(
        "faults of the simulated world ({}): crashes, restarts, cuts, link changes, lost messages, disk errors, what crashes kept",
        model.faults.len()
    ));
    let _ = writeln!(
        out,
        "<text x=\"8\" y=\"{:.1}\" fill=\"{COLOR_FAULT}\" font-weight=\"bold\"{info}>{FAULT_LANE}{title}</text>",
        middle + 4.0
    );
    // Faults at one x (a crash and its restart at one instant) are one
    // tick with every letter, strongest first, and every fault on hover.
    let mut groups: Vec<(f64, Vec<&FaultPoint>)> = Vec::new();
    for fault in &model.faults {
        let x = layout.x(fault.time_ns, fault.step);
        match groups.last_mut() {
            Some((at, group)) if format!("{at:.2}") == format!("{x:.2}") => group.push(fault),
            _ => groups.push((x, vec![fault])),
        }
    }
    for (x, group) in groups {
        let mut letters: Vec<u8> = group.iter().map(|fault| fault.symbol().0).collect();
        strongest_first(&mut letters);
        let words: Vec<String> = group
            .iter()
            .map(|fault| {
                let (_, word) = fault.symbol();
                let by = fault.task.map_or(String::new(), |task| {
                    format!(", by {}", trace.task_name(task))
                });
                format!(
                    "fault ({word}): {} at {} (step {}{by})",
                    fault.what,
                    format_ns(fault.time_ns),
                    fault.step
                )
            })
            .collect();
        let (info, title) = hover(&words.join("; "));
        let _ = writeln!(
            out,
            "<g class=\"fault\"{info}><line x1=\"{x:.2}\" y1=\"{:.1}\" x2=\"{x:.2}\" y2=\"{:.1}\" stroke=\"{COLOR_FAULT}\" stroke-width=\"2\"/>\
             <text x=\"{:.2}\" y=\"{:.1}\" fill=\"{COLOR_FAULT}\" font-weight=\"bold\">{}</text>{title}</g>",
            top + 3.0,
            top + LANE_HEIGHT - 3.0,
            x + 3.0,
            middle + 4.0,
            String::from_utf8_lossy(&letters)
        );
    }
    let _ = writeln!(out, "</g>");
}

fn write_axis(out: &mut String, layout: &Layout, lanes: usize) {
    let axis_y = TOP - 8.0;
    let bottom = TOP + lanes as f64 * LANE_HEIGHT;
    let _ = writeln!(out, "<g class=\"axis\">");
    let _ = writeln!(
        out,
        "<text x=\"8\" y=\"{:.1}\" fill=\"#495057\">{}</text>",
        14.0,
        if layout.steps {
            "steps (0s elapsed)"
        } else {
            "virtual time"
        }
    );
    let _ = writeln!(
        out,
        "<line x1=\"{LABEL_WIDTH}\" y1=\"{axis_y}\" x2=\"{:.2}\" y2=\"{axis_y}\" stroke=\"#495057\"/>",
        LABEL_WIDTH + layout.plot_width
    );
    let spacing = tick_spacing_ns(layout.end, layout.plot_width, 70.0);
    let mut tick = 0u64;
    loop {
        let x = layout.x(tick, tick);
        let _ = writeln!(
            out,
            "<line x1=\"{x:.2}\" y1=\"{:.1}\" x2=\"{x:.2}\" y2=\"{bottom:.1}\" stroke=\"#dee2e6\"/>",
            axis_y
        );
        let _ = writeln!(
            out,
            "<line x1=\"{x:.2}\" y1=\"{:.1}\" x2=\"{x:.2}\" y2=\"{axis_y}\" stroke=\"#495057\"/>",
            axis_y - 4.0
        );
        let _ = writeln!(
            out,
            "<text x=\"{x:.2}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#495057\">{}</text>",
            axis_y - 8.0,
            layout.label(tick)
        );
        if layout.end == 0 {
            break;
        }
        match tick.checked_add(spacing) {
            Some(next) if next <= layout.end => tick = next,
            _ => break,
        }
    }
    let _ = writeln!(out, "</g>");
}

fn write_legend(out: &mut String, height: f64, faults: bool) {
    let y = height - LEGEND_HEIGHT / 2.0;
    let mut items = vec![
        ("rect", COLOR_POLL, "poll"),
        ("rect", COLOR_BLOCKING, "poll blocking the loop"),
        ("rect", COLOR_POOL, "pool job (spawn_blocking)"),
        ("mark", COLOR_MARK, "mark"),
        ("line", COLOR_WAKE, "wake -> next poll"),
    ];
    if faults {
        items.push(("fault", COLOR_FAULT, "fault"));
    }
    let _ = writeln!(out, "<g class=\"legend\">");
    let mut x = LABEL_WIDTH;
    for (shape, color, text) in items {
        match shape {
            "rect" => {
                let _ = writeln!(
                    out,
                    "<rect x=\"{x}\" y=\"{:.1}\" width=\"14\" height=\"10\" fill=\"{color}\"/>",
                    y - 5.0
                );
            }
            "fault" => {
                let _ = writeln!(
                    out,
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>",
                    x + 7.0,
                    y - 6.0,
                    x + 7.0,
                    y + 6.0
                );
            }
            "mark" => {
                let _ = writeln!(
                    out,
                    "<path d=\"M {:.1} {:.1} l 4 0 l -4 6 l -4 -6 z\" fill=\"{color}\"/>",
                    x + 7.0,
                    y - 3.0
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "<line x1=\"{x}\" y1=\"{y}\" x2=\"{:.1}\" y2=\"{y}\" stroke=\"{color}\" marker-end=\"url(#wake-arrow)\"/>",
                    x + 14.0
                );
            }
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#212529\">{}</text>",
            x + 20.0,
            y + 4.0,
            escape(text)
        );
        x += 20.0 + text.len() as f64 * 7.3 + 24.0;
    }
    let _ = writeln!(out, "</g>");
}

pub(crate) fn html(trace: &Trace) -> String {
    let model = Model::new(trace);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<title>asyncsim trace</title>\n<style>\n");
    out.push_str(
        "body { font-family: system-ui, sans-serif; margin: 1.5em; color: #212529; }\n\
         #info { font-family: monospace; min-height: 1.4em; padding: .4em .6em; background: #f1f3f5; border-radius: 4px; }\n\
         svg .poll:hover, svg .job:hover, svg .mark:hover, svg .wake:hover { opacity: .7; }\n\
         pre { font-size: 12px; background: #f8f9fa; padding: .6em; overflow: auto; }\n",
    );
    out.push_str("</style>\n</head>\n<body>\n");
    let faults = match model.faults.len() {
        0 => String::new(),
        count => format!("; {count} fault(s) (the `{FAULT_LANE}` lane)"),
    };
    let _ = writeln!(
        out,
        "<h1>asyncsim run</h1>\n<p>{} tasks, {} events, virtual time 0s .. {}; {} poll(s) blocked the loop{faults}. Hover over a bar for details.</p>",
        model.lanes.len(),
        trace.events().len(),
        format_ns(model.end_ns),
        model.blocking_polls().count()
    );
    out.push_str("<div id=\"info\">&#160;</div>\n");
    out.push_str(&svg(trace));
    out.push_str("<details>\n<summary>events</summary>\n<pre>");
    let text = if trace.events().len() > HTML_EVENTS_MAX {
        format!(
            "... first {} events not shown ...\n{}",
            trace.events().len() - HTML_EVENTS_MAX,
            trace.tail(HTML_EVENTS_MAX)
        )
    } else {
        trace.to_string()
    };
    out.push_str(&escape(&text));
    out.push_str("</pre>\n</details>\n");
    out.push_str(
        "<script>\n\
         (function () {\n\
           var info = document.getElementById('info');\n\
           document.querySelectorAll('[data-info]').forEach(function (element) {\n\
             element.addEventListener('mouseenter', function () { info.textContent = element.getAttribute('data-info'); });\n\
           });\n\
         })();\n\
         </script>\n",
    );
    out.push_str("</body>\n</html>\n");
    out
}
