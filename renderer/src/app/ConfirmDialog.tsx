// A modal confirmation (the native <dialog>: focus is trapped inside, Escape cancels, focus returns after). Its
// body is its description, so that a screen reader reads what is to be confirmed, not only the title and "Cancel".
import { useEffect, useId, useRef } from 'react';

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  body: React.ReactNode;
  confirm: string;
  cancel: string;
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{props.title}</h2>
      <div className="dialog-body" id={`${id}-body`}>
        {props.body}
      </div>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onCancel} autoFocus>
          {props.cancel}
        </button>
        <button
          type="button"
          className={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`}
          onClick={props.onConfirm}
          data-testid="confirm-button"
        >
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}
