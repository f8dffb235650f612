import { useEffect, useState } from 'preact/hooks';

/** An <img> of a Blob (object URL made and freed with the component). */
export function BlobImage({ blob, alt, ...rest }) {
  const [url, setUrl] = useState(null);
  useEffect(() => {
    if (!blob) return undefined;
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url ? <img src={url} alt={alt} {...rest} /> : <span class="img-placeholder" aria-hidden="true" />;
}
