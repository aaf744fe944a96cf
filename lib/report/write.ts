/**
 * `int8-detect quantize --report report.html` and writeQuantizationReport(): gather the report's
 * figures (data.ts), render one self-contained HTML page (html.ts), write it
 * atomically.
 */
import { writeFileAtomic } from '../util/files';
import { invalidArgument } from '../util/errors';
import type { QuantizedModel } from '../runtimes/quantize-model';
import { buildReportData, reportable, type QuantizationReportData, type ReportOptions } from './data';
import { renderReportHtml } from './html';

/** Write the HTML report of a quantizeModel() result (with its check) to `file`; returns the figures it shows. */
export async function writeQuantizationReport(result: QuantizedModel, file: string, options: ReportOptions = {}): Promise<QuantizationReportData> {
  reportable(result);
  if (typeof file !== 'string' || file === '') throw invalidArgument('a file path', 'writeQuantizationReport(result, file)', file);
  const data = await buildReportData(result, options);
  await writeFileAtomic(file, renderReportHtml(data));
  return data;
}
