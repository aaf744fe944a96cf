/**
 * `int8-detect quantize --report report.html` and writeQuantizationReport(): gather the report's
 * figures (report-data.ts), render one self-contained HTML page (report-html.ts), write it
 * atomically.
 */
import { writeFileAtomic } from '../util/files';
import { invalidArgument } from '../util/errors';
import type { QuantizeWithSearchResult } from './quantize-with-search';
import { buildReportData, type QuantizationReportData, type ReportOptions } from './report-data';
import { renderReportHtml } from './report-html';

/** Write the HTML report of a quantizeWithSearch() result to `file`; returns the figures it shows. */
export async function writeQuantizationReport(result: QuantizeWithSearchResult, file: string, options: ReportOptions = {}): Promise<QuantizationReportData> {
  if (typeof result !== 'object' || result === null || !result.quantized || !result.search) {
    throw invalidArgument('a quantizeWithSearch() result', 'writeQuantizationReport(result)', result);
  }
  if (typeof file !== 'string' || file === '') throw invalidArgument('a file path', 'writeQuantizationReport(result, file)', file);
  const data = await buildReportData(result, options);
  await writeFileAtomic(file, renderReportHtml(data));
  return data;
}
