import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasKey, messages, t, tv } from '../src/i18n';

const root = join(__dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('translations', () => {
  it('both languages have the same keys and no empty text', () => {
    const zh = Object.keys(messages.zh).sort();
    const en = Object.keys(messages.en).sort();
    expect(en).toEqual(zh);
    for (const lang of ['zh', 'en'] as const) {
      for (const [k, v] of Object.entries(messages[lang])) expect(v.trim(), `${lang} ${k}`).not.toBe('');
    }
  });

  it('placeholders agree between the languages', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(messages.zh) as Array<keyof typeof messages.zh>) {
      expect(names(messages.en[k]), k).toEqual(names(messages.zh[k]));
    }
  });

  it('every key the page uses exists', () => {
    const used = new Set<string>();
    const html = readFileSync(join(root, 'index.html'), 'utf8');
    const sources = files(join(root, 'src')).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(f, 'utf8'));
    for (const text of [html, ...sources]) {
      for (const m of text.matchAll(/data-i18n(?:-title|-placeholder)?="([\w.]+)"/g)) used.add(m[1]);
      for (const m of text.matchAll(/'data-i18n': '([\w.]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !hasKey(k));
    expect(missing).toEqual([]);
  });

  it('every enum value of the API has a label in both languages', () => {
    const enums: Record<string, string[]> = {
      category: ['new_build', 'alteration', 'extension', 'repair', 'municipal', 'water', 'pipeline', 'greening', 'fit_out'],
      funding: ['government', 'collective', 'social'],
      status: ['discovered', 'filed', 'notified', 'in_progress', 'completed'],
      venue: ['mall', 'school', 'hospital', 'station', 'market', 'hotel', 'venue'],
      hazard: [
        'scaffold_guardrail_missing', 'scaffold_pole_spacing', 'ladder_at_height', 'no_switch_box', 'power_from_secondary_box',
        'extension_board', 'no_safety_briefing', 'missing_plan', 'steel_mezzanine', 'unpermitted_above_limit',
        'hot_work_without_permit', 'insulation_material', 'other',
      ],
      hstatus: ['open', 'rectifying', 'verified', 'closed'],
    };
    for (const [prefix, values] of Object.entries(enums)) {
      for (const v of values) expect(hasKey(`${prefix}.${v}`), `${prefix}.${v}`).toBe(true);
    }
  });

  it('interpolates and falls back to the raw value', () => {
    expect(t('common.count', { n: 3 }, 'en')).toBe('3 items');
    expect(t('common.count', { n: 3 }, 'zh')).toBe('共 3 条');
    expect(tv('funding', 'nonsense')).toBe('nonsense');
  });
});
