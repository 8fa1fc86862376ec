/**
 * Several Prometheus text expositions as one, each sample labelled with
 * where it came from: a --fronts parent's /metrics, from its fronts'
 * (`front="1"`, `front="2"`...). Summing is the scraper's business
 * (`sum without (front) (...)`), as for any set of processes.
 *
 * Not the texts one after another: the text format wants all the samples
 * of a metric family together under its one # HELP and # TYPE, and
 * Prometheus refuses a second TYPE line for a name. So the samples are
 * regrouped by family, in the order the families first appear.
 */

/** One exposition and the label value its samples get. */
export interface LabelledExposition {
  value: string;
  text: string;
}

interface Family {
  help: string | null;
  type: string | null;
  samples: string[];
}

export function mergeExpositions(label: string, sources: readonly LabelledExposition[]): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let family = families.get(name);
    if (family === undefined) families.set(name, (family = { help: null, type: null, samples: [] }));
    return family;
  };
  for (const { value, text } of sources) {
    let current: Family | null = null;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const comment = /^#\s+(HELP|TYPE)\s+(\S+)/.exec(line);
      if (comment !== null) {
        current = familyOf(comment[2] as string);
        if (comment[1] === 'HELP') current.help ??= line;
        else current.type ??= line;
        continue;
      }
      if (line.startsWith('#')) continue;
      // A sample before any HELP or TYPE line is a family of its own (untyped).
      (current ?? familyOf(sampleName(line))).samples.push(withLabel(line, label, value));
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) {
    if (family.help !== null) lines.push(family.help);
    if (family.type !== null) lines.push(family.type);
    lines.push(...family.samples);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function sampleName(line: string): string {
  return /^[^{\s]+/.exec(line)?.[0] ?? line;
}

/** `name{a="b"} 1` as `name{label="value",a="b"} 1`; `name 1` as `name{label="value"} 1`. */
function withLabel(line: string, label: string, value: string): string {
  const pair = `${label}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const name = sampleName(line);
  const rest = line.slice(name.length);
  if (!rest.startsWith('{')) return `${name}{${pair}}${rest}`;
  return `${name}{${pair}${rest.startsWith('{}') ? '' : ','}${rest.slice(1)}`;
}
