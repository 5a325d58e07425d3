import { describe, expect, it } from 'vitest';
import { COVERAGE_COLORS, COVERAGE_ORDER, coverageClass, daysSince, officerColor } from '../src/colors';

const now = new Date('2026-11-24T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

describe('coverage colour scale', () => {
  it('never patrolled cells are their own class', () => {
    expect(coverageClass({ patrolled: false, visits: 0, last_patrolled: null, overdue: true }, now)).toBe('never');
    expect(coverageClass({}, now)).toBe('never');
  });

  it('overdue wins over age', () => {
    expect(coverageClass({ patrolled: true, last_patrolled: ago(1), overdue: true }, now)).toBe('overdue');
    expect(coverageClass({ patrolled: 3, last_patrolled: ago(20), overdue: 2 }, now)).toBe('overdue');
  });

  it('recent cells are graded by days since the last patrol', () => {
    expect(coverageClass({ patrolled: true, last_patrolled: ago(0), overdue: false }, now)).toBe('recent0');
    expect(coverageClass({ patrolled: true, last_patrolled: ago(3), overdue: false }, now)).toBe('recent0');
    expect(coverageClass({ patrolled: true, last_patrolled: ago(5), overdue: false }, now)).toBe('recent1');
    expect(coverageClass({ patrolled: true, last_patrolled: ago(10), overdue: false }, now)).toBe('recent2');
  });

  it('a last patrol implies patrolled even when the flag is missing', () => {
    expect(coverageClass({ last_patrolled: ago(2) }, now)).toBe('recent0');
  });

  it('days since is whole days and null for never', () => {
    expect(daysSince(null, now)).toBeNull();
    expect(daysSince('not a date', now)).toBeNull();
    expect(daysSince(ago(2.5), now)).toBe(2);
  });

  it('every class has a distinct colour and a place in the legend', () => {
    const colours = Object.values(COVERAGE_COLORS);
    expect(new Set(colours).size).toBe(colours.length);
    expect([...COVERAGE_ORDER].sort()).toEqual(Object.keys(COVERAGE_COLORS).sort());
  });

  it('aggregated cells show the freshest patrol inside them', () => {
    expect(coverageClass({ patrolled: true, last_patrolled: ago(1), overdue: false, patrolled_share: 0.1, overdue_share: 0.9 }, now)).toBe('recent0');
    expect(coverageClass({ patrolled: true, last_patrolled: ago(6), overdue: false, patrolled_share: 0.5, overdue_share: 0.5 }, now)).toBe('recent1');
    expect(coverageClass({ patrolled: false, last_patrolled: ago(40), overdue: true, patrolled_share: 0, overdue_share: 1 }, now)).toBe('overdue');
    expect(coverageClass({ patrolled: false, last_patrolled: null, overdue: true, patrolled_share: 0, overdue_share: 1 }, now)).toBe('never');
  });

  it('officer colours are stable', () => {
    expect(officerColor('王伟')).toBe(officerColor('王伟'));
    expect(officerColor('a')).not.toBe(officerColor('b'));
  });
});
