"""Ship the repo-root ``styles/`` folder inside the wheel as ``gitops_tui/styles``.

The layout keeps the stylesheets at the top of the repository; an installed wheel
must still find them, so ``build_py`` copies them into the package.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithStyles(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "gitops_tui" / "styles"
        target.mkdir(parents=True, exist_ok=True)
        for sheet in sorted(Path(__file__).parent.joinpath("styles").glob("*.tcss")):
            self.copy_file(str(sheet), str(target / sheet.name))


setup(cmdclass={"build_py": BuildWithStyles})
