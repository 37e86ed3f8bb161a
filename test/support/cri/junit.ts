// Reads a Ginkgo v2 JUnit report (critest -ginkgo.junit-report): each spec (`[It] …` test
// case) with its status; suite-level nodes ([BeforeSuite], [ReportAfterSuite], …) are left out.
export interface SpecResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'panicked' | 'interrupted' | 'timedout' | 'aborted';
  /** The failure's message (first line), for failed specs. */
  message?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]!) : undefined;
}

export function parseJunit(xml: string): SpecResult[] {
  const out: SpecResult[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    const name = attr(m[1]!, 'name') ?? '';
    if (!name.startsWith('[It] ')) continue;
    const status = (attr(m[1]!, 'status') ?? 'passed') as SpecResult['status'];
    const failure = /<failure\b[^>]*message="([^"]*)"/.exec(m[3] ?? '');
    out.push({ name: name.slice('[It] '.length), status, ...(failure ? { message: unescape(failure[1]!).split('\n')[0] } : {}) });
  }
  return out;
}

export interface SpecCounts {
  pass: number;
  fail: number;
  skip: number;
  failed: string[];
}

export function countSpecs(specs: SpecResult[]): SpecCounts {
  const failed = specs.filter((s) => s.status !== 'passed' && s.status !== 'skipped' && s.status !== 'pending');
  return {
    pass: specs.filter((s) => s.status === 'passed').length,
    fail: failed.length,
    skip: specs.filter((s) => s.status === 'skipped' || s.status === 'pending').length,
    failed: failed.map((s) => s.name),
  };
}
