// Read-only documents holding the Python a pipeline would generate. A content provider (not
// an untitled file) so the preview cannot be edited or saved by mistake, and a second
// preview of the same DAG refreshes the open tab instead of opening another.
import * as vscode from "vscode";

export const PREVIEW_SCHEME = "xo-foundry-dag";

export class DagPreviews implements vscode.TextDocumentContentProvider {
  readonly #texts = new Map<string, string>();
  readonly #changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.#changed.event;

  /**
   * The preview document for a DAG file. Its path ends with the DAG's file name, so the tab
   * reads `shop.py` and VS Code picks Python by the extension too.
   */
  show(target: string | undefined, fileName: string, content: string): vscode.Uri {
    const where = target ? vscode.Uri.file(target).path : `/${fileName}`;
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: where });
    const key = uri.toString();
    const before = this.#texts.get(key);
    this.#texts.set(key, content);
    if (before !== undefined && before !== content) this.#changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    // After a window reload VS Code may restore a preview tab we have no text for.
    return this.#texts.get(uri.toString()) ?? "# Run 'xo-foundry: Preview DAG' on the pipeline file again to see this DAG.\n";
  }

  dispose(): void {
    this.#changed.dispose();
    this.#texts.clear();
  }
}
