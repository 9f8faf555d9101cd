"""The small core every layer stands on: errors, atomic writes, labels files, the model folder's
files and the version. It imports nothing of edgecell outside itself."""
