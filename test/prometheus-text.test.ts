/** The strict Prometheus text reader the serve tests use: it must refuse what Prometheus would. */
import test from 'ava';
import { parsePrometheusText } from './helpers/prometheus-text';

const histogram = `# HELP h latency
# TYPE h histogram
h_bucket{le="0.1",s="a"} 1
h_bucket{le="1",s="a"} 3
h_bucket{le="+Inf",s="a"} 4
h_sum{s="a"} 2.5
h_count{s="a"} 4
# TYPE c counter
c{path="/x\\"y\\\\z"} 7 1700000000000
`;

test('reads families, labels with escapes, histogram samples and timestamps', (t) => {
  const [h, c] = parsePrometheusText(histogram);
  t.is(h.type, 'histogram');
  t.is(h.help, 'latency');
  t.is(h.samples.length, 5);
  t.deepEqual(h.samples[2], { name: 'h_bucket', labels: { le: '+Inf', s: 'a' }, value: 4 });
  t.deepEqual(c.samples, [{ name: 'c', labels: { path: '/x"y\\z' }, value: 7 }]);
});

test('refuses what a Prometheus server would refuse', (t) => {
  const bad: Array<[string, RegExp]> = [
    ['1bad 2\n', /no metric name/],
    ['a{x="1} 2\n', /unterminated/],
    ['a{x=1} 2\n', /not quoted/],
    ['a{x="\\t"} 2\n', /escape/],
    ['a 2\na 3\n', /twice/],
    ['a 1\nb 1\na 2\n', /after another family began/],
    ['a two\n', /not a sample value/],
    ['# TYPE a counter\na -1\n', /negative/],
    ['# TYPE a kind\n', /unknown type/],
    ['a 1', /newline/],
    [histogram.replace('h_bucket{le="1",s="a"} 3', 'h_bucket{le="1",s="a"} 0'), /cumulative/],
    [histogram.replace('h_count{s="a"} 4', 'h_count{s="a"} 5'), /\+Inf bucket is not the count/],
    [histogram.replace('h_sum{s="a"} 2.5\n', ''), /no _count or _sum/],
  ];
  for (const [text, message] of bad) t.throws(() => parsePrometheusText(text), { message }, JSON.stringify(text));
});
